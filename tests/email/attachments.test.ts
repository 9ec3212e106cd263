import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests } from '../../functions/_core/clock.ts'
import { contentDisposition } from '../../functions/email/attachments/download-attachment.ts'
import { getAttachmentRoute } from '../../functions/email/attachments/get-attachment.ts'
import { getAttachmentUrlRoute } from '../../functions/email/attachments/get-attachment-url.ts'
import { uploadAttachmentRoute } from '../../functions/email/attachments/upload-attachment.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { seedInbox, seedThread } from './mail.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())
afterEach(() => resetClockForTests())

const pdf = new TextEncoder().encode('%PDF-1.4 an invoice for order 1042\n')

async function upload(t: Tenant, options: { key?: string; bytes?: Uint8Array; filename?: string; type?: string } = {}) {
  const res = await api.call('POST', '/attachments/upload', {
    key: options.key ?? (await t.key()),
    body: {
      filename: options.filename ?? 'invoice.pdf',
      mime_type: options.type ?? 'application/pdf',
      content: Buffer.from(options.bytes ?? pdf).toString('base64'),
    },
  })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body.data as { id: string; attachment_id: string; size: number; sha256: string; filename: string }
}

const attachmentOf = (agent?: 'agent' | 'otherAgent') => async (t: Tenant) => ({
  id: (await upload(t, { key: await t.key(agent ? { agent, scopes: ['attachments:write'] } : {}) })).id,
})

describeSecurity(uploadAttachmentRoute, { body: { filename: 'a.txt', content_type: 'text/plain', content: 'aGk=' } }, () => api)
describeSecurity(getAttachmentRoute, { params: attachmentOf('agent'), otherAgentParams: attachmentOf('otherAgent') }, () => api)
describeSecurity(getAttachmentUrlRoute, { params: attachmentOf('agent'), otherAgentParams: attachmentOf('otherAgent') }, () => api)

/** Gets a download link for the attachment, with the tenant's key. */
async function linkTo(t: Tenant, id: string, expiresIn?: number) {
  const res = await api.call('GET', `/attachments/${id}/url${expiresIn ? `?expires_in=${expiresIn}` : ''}`, { key: await t.key() })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.data as { url: string; expires_in: number; expires_at: string; filename: string }
}

const tokenOf = (url: string) => new URL(url).searchParams.get('token') as string

describe('an uploaded attachment', () => {
  it('is stored with its size, type and SHA-256, and its metadata read back', async () => {
    const t = await createTenant()
    const uploaded = await upload(t)
    expect(uploaded).toMatchObject({
      attachment_id: uploaded.id,
      filename: 'invoice.pdf',
      content_type: 'application/pdf',
      size: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      message_id: null,
    })
    const got = await api.call('GET', `/attachments/${uploaded.id}`, { key: await t.key() })
    expect(got.status).toBe(200)
    expect(got.body.data).toEqual(uploaded)
  })

  it('downloads through its link with no key, byte for byte, with its type and name', async () => {
    const t = await createTenant()
    const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)
    const uploaded = await upload(t, { bytes, filename: 'scan.bin', type: 'application/octet-stream' })
    const link = await linkTo(t, uploaded.id)
    expect(link.url).toBe(`${api.base}/attachments/${uploaded.id}/download?token=${encodeURIComponent(tokenOf(link.url))}`)
    const res = await fetch(link.url)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="scan.bin"; filename*=UTF-8''scan.bin`)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes)
  })

  it('lasts an hour unless asked otherwise, and between a minute and a week', async () => {
    const t = await createTenant()
    const { id } = await upload(t)
    const before = Date.now()
    const link = await linkTo(t, id)
    expect(link).toMatchObject({ expires_in: 3600, filename: 'invoice.pdf' })
    expect(Math.abs(Date.parse(link.expires_at) - (before + 3_600_000))).toBeLessThan(5_000)
    for (const expiresIn of [59, 604_801, 'soon']) {
      const res = await api.call('GET', `/attachments/${id}/url?expires_in=${expiresIn}`, { key: await t.key() })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    expect((await linkTo(t, id, 604_800)).expires_in).toBe(604_800)
  })

  it('quotes a filename with quotes, backslashes and non-ASCII letters safely', async () => {
    expect(contentDisposition('a "quoted"\\ name é.pdf')).toBe(
      `attachment; filename="a _quoted__ name _.pdf"; filename*=UTF-8''a%20%22quoted%22%5C%20name%20%C3%A9.pdf`,
    )
    const t = await createTenant()
    const { id } = await upload(t, { filename: 'résumé "final".pdf' })
    const res = await fetch((await linkTo(t, id)).url)
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    )
  })
})

describe('a download link', () => {
  it('stops working once it expires, with 410 gone', async () => {
    const t = await createTenant()
    const { id } = await upload(t)
    const link = await linkTo(t, id, 60)
    expect((await fetch(link.url)).status).toBe(200)
    advanceClockForTests(61_000)
    const res = await fetch(link.url)
    expect(res.status).toBe(410)
    expect((await res.json()).error.code).toBe('gone')
  })

  it('is refused with 403 when its token is tampered with', async () => {
    const t = await createTenant()
    const { id } = await upload(t)
    const token = tokenOf((await linkTo(t, id)).url)
    const [header, payload, signature] = token.split('.')
    const flipped = signature.slice(0, 5) + (signature[5] === 'A' ? 'B' : 'A') + signature.slice(6)
    // A payload claiming a later expiry, kept with the old signature.
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    const extended = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400 })).toString('base64url')
    for (const forged of [`${header}.${payload}.${flipped}`, `${header}.${extended}.${signature}`, 'not-a-token']) {
      const res = await fetch(`${api.base}/attachments/${id}/download?token=${encodeURIComponent(forged)}`)
      expect(res.status).toBe(403)
      expect((await res.json()).error.code).toBe('insufficient_scope')
    }
  })

  it('opens only the attachment it was made for', async () => {
    const t = await createTenant()
    const first = await upload(t)
    const second = await upload(t, { filename: 'other.pdf' })
    const token = tokenOf((await linkTo(t, first.id)).url)
    const res = await fetch(`${api.base}/attachments/${second.id}/download?token=${encodeURIComponent(token)}`)
    expect(res.status).toBe(403)
  })

  it('needs a token', async () => {
    const t = await createTenant()
    const { id } = await upload(t)
    const res = await fetch(`${api.base}/attachments/${id}/download`)
    expect(res.status).toBe(401)
    expect((await res.json()).error.code).toBe('unauthorized')
  })
})

describe("another organisation's attachment", () => {
  it('is not found by id, and no link of ours opens it', async () => {
    const mine = await createTenant()
    const theirs = await createTenant()
    const their = await upload(theirs)
    for (const path of [`/attachments/${their.id}`, `/attachments/${their.id}/url`]) {
      const res = await api.call('GET', path, { key: await mine.key() })
      expect(res.status).toBe(404)
      expect(res.body.error.code).toBe('not_found')
    }
    const ours = await upload(mine)
    const token = tokenOf((await linkTo(mine, ours.id)).url)
    const res = await fetch(`${api.base}/attachments/${their.id}/download?token=${encodeURIComponent(token)}`)
    expect(res.status).toBe(403)
  })
})

describe('an agent key holding attachments:read alone', () => {
  /** A received message with one attachment, in a fresh inbox of the agent named. */
  async function receivedAttachment(t: Tenant, agent: 'agent' | 'otherAgent') {
    const inbox = await seedInbox(t, { agent })
    const thread = await seedThread(t.org.id, inbox.id, 'Invoice', [
      {
        text: 'See attached',
        at: new Date().toISOString(),
        attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', content: '%PDF' }],
      },
    ])
    return thread.attachmentIds[0]
  }

  it("reads the attachments of mail received in its agent's own inbox", async () => {
    const t = await createTenant()
    const id = await receivedAttachment(t, 'agent')
    const key = await t.key({ agent: 'agent', scopes: ['attachments:read'] })
    const got = await api.call('GET', `/attachments/${id}`, { key })
    expect(got.status, JSON.stringify(got.body)).toBe(200)
    expect(got.body.data).toMatchObject({ id, filename: 'invoice.pdf', content_type: 'application/pdf', size: 4 })
    const link = await api.call('GET', `/attachments/${id}/url`, { key })
    expect(link.status).toBe(200)
  })

  it("does not find the attachments of mail in another agent's inbox", async () => {
    const t = await createTenant()
    const theirs = await receivedAttachment(t, 'otherAgent')
    const key = await t.key({ agent: 'agent', scopes: ['attachments:read'] })
    for (const path of [`/attachments/${theirs}`, `/attachments/${theirs}/url`]) {
      const res = await api.call('GET', path, { key })
      expect(res.status).toBe(404)
      expect(res.body.error.code).toBe('not_found')
    }
  })
})

describe('what an upload refuses', () => {
  it('refuses a file over 10 MB decoded with 413 payload_too_large, storing nothing', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/attachments/upload', {
      key: await t.key(),
      body: { filename: 'big.bin', content: Buffer.alloc(10 * 1024 * 1024 + 1).toString('base64') },
    })
    expect(res.status).toBe(413)
    expect(res.body.error).toEqual({ code: 'payload_too_large', message: expect.stringContaining('at most 10485760 bytes') })
    const [{ count }] = await serviceSql()`select count(*)::int as count from agentry.email_attachments where org_id = ${t.org.id}`
    expect(count).toBe(0)
  })

  it('takes a body larger than MAX_BODY_BYTES on the upload route alone, up to 14 MiB', async () => {
    const t = await createTenant()
    const key = await t.key()
    const tooLarge = await api.call('POST', '/attachments/upload', { key, body: { filename: 'x', content: 'A'.repeat(15 * 1024 * 1024) } })
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.body.error.message).toBe('Request body exceeds the 14680064-byte limit.')
    const elsewhere = await api.call('POST', '/agents', { key, body: { name: 'x', description: 'A'.repeat(2 * 1024 * 1024) } })
    expect(elsewhere.status).toBe(413)
    expect(elsewhere.body.error.message).toBe('Request body exceeds the 1048576-byte limit.')
  })

  it('accepts a file of exactly 10 MB', async () => {
    const t = await createTenant()
    const uploaded = await upload(t, { bytes: new Uint8Array(10 * 1024 * 1024).fill(7), filename: 'ten.bin' })
    expect(uploaded.size).toBe(10 * 1024 * 1024)
  })

  it("refuses with 413 what would take the organisation past its plan's storage quota", async () => {
    const t = await createTenant()
    const sql = serviceSql()
    const plan = `test-${t.org.id}`
    await sql`insert into agentry.plans (id, name, rate_limit_per_minute, max_attachment_bytes) values (${plan}, 'Tiny storage', 60, 100)`
    await sql`update agentry.organisations set plan = ${plan} where id = ${t.org.id}`
    await upload(t, { bytes: new Uint8Array(60) })
    await upload(t, { bytes: new Uint8Array(40) })
    const res = await api.call('POST', '/attachments/upload', {
      key: await t.key(),
      body: { filename: 'one-more.bin', content: Buffer.from([1]).toString('base64') },
    })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe('payload_too_large')
    expect(res.body.error.message).toBe(
      "This organisation stores 100 bytes of attachments; 1 more would pass its plan's (Tiny storage) quota of 100 bytes " +
        '(max_attachment_bytes). Delete messages with attachments, or move to a plan that stores more.',
    )
  })

  it('refuses content that is not base64, and a content type that is not a MIME type, with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    const bad = [
      { filename: 'a.txt', content: 'not base64!' },
      { filename: 'a.txt', content: 'aGk=', content_type: 'text/plain\r\nX-Injected: 1' },
      { filename: 'a.txt', content: 'aGk=', mime_type: 'pdf' },
      { filename: 'dir/a.txt', content: 'aGk=' },
      { filename: '', content: 'aGk=' },
    ]
    for (const body of bad) {
      const res = await api.call('POST', '/attachments/upload', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })

  it('takes the type as content_type or mime_type, and application/octet-stream when given neither', async () => {
    const t = await createTenant()
    const key = await t.key()
    const typed = await api.call('POST', '/attachments/upload', {
      key,
      body: { filename: 'a.txt', content_type: 'Text/Plain; charset=utf-8', content: 'aGk=' },
    })
    expect(typed.body.data.content_type).toBe('text/plain; charset=utf-8')
    const untyped = await api.call('POST', '/attachments/upload', { key, body: { filename: 'a', content: 'aGk=' } })
    expect(untyped.body.data).toMatchObject({ content_type: 'application/octet-stream', size: 2 })
  })
})
