import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, type Tenant } from '../../harness/tenants.ts'
import { makeInbox, messagesOf } from './smtp.ts'

let api: TestApi
let t: Tenant
const secret = `inbound-${crypto.randomUUID()}`

beforeAll(async () => {
  process.env.INBOUND_SECRET = secret
  api = await startApi()
  t = await createTenant()
})
afterAll(async () => {
  delete process.env.INBOUND_SECRET
  await api.close()
})

const mime = (to: string, subject = 'From a provider') =>
  `From: Ann <ann@sender.example.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${crypto.randomUUID()}@sender.example.test>\r\n\r\nHello from the webhook\r\n`

// Plain fetch: this route is no operation of the API document, so the harness's record of answers leaves it out.
function post(body: BodyInit, headers: Record<string, string>, query = '') {
  return fetch(`${api.base}/inbound/mime${query}`, { method: 'POST', body, headers })
}

describe('POST /inbound/mime', () => {
  it('stores a raw message/rfc822 body for the inboxes in its To header', async () => {
    const inbox = await makeInbox(t)
    const res = await post(mime(inbox.address), { authorization: `Bearer ${secret}`, 'content-type': 'message/rfc822' })
    expect(res.status).toBe(200)
    const [m] = await messagesOf(inbox.id)
    expect(await res.json()).toEqual({
      data: { accepted: [{ inbox_id: inbox.id, message_id: m.id, thread_id: m.thread_id }], rejected: [] },
    })
    expect(m).toMatchObject({
      subject: 'From a provider',
      extracted_text: 'Hello from the webhook',
      from_address: 'ann@sender.example.test',
    })
    // A provider's webhook does not know the sending client's address: SPF is not judged.
    expect(m.auth).toMatchObject({ spf: 'none', dkim: 'none' })
  })

  it('takes JSON { raw_base64, envelope }, the envelope naming the recipients whatever the headers say', async () => {
    const inbox = await makeInbox(t)
    const raw = Buffer.from(mime('someone-else@example.test')).toString('base64')
    const res = await post(
      JSON.stringify({ raw_base64: raw, envelope: { from: 'ann@sender.example.test', to: [inbox.address, 'nobody@agents.localhost'] } }),
      {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
      },
    )
    expect(res.status).toBe(200)
    expect((await res.json()).data.rejected).toEqual(['nobody@agents.localhost'])
    expect(await messagesOf(inbox.id)).toHaveLength(1)
  })

  it('refuses a caller without the secret, or with a wrong one, with 401 and stores nothing', async () => {
    const inbox = await makeInbox(t)
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${secret}x` }, { authorization: `Bearer ${await t.key()}` }]
    for (const headers of attempts) {
      const res = await post(mime(inbox.address), { ...headers, 'content-type': 'message/rfc822' })
      expect(res.status).toBe(401)
      expect((await res.json()).error.code).toBe('unauthorized')
    }
    expect(await messagesOf(inbox.id)).toHaveLength(0)
  })

  it('answers 413 for a message over the size cap', async () => {
    const inbox = await makeInbox(t)
    process.env.SMTP_MAX_BYTES = '2000'
    try {
      const res = await post(mime(inbox.address) + 'x'.repeat(5000), {
        authorization: `Bearer ${secret}`,
        'content-type': 'message/rfc822',
      })
      expect(res.status).toBe(413)
      expect((await res.json()).error).toEqual({ code: 'payload_too_large', message: 'The message exceeds the 2000-byte limit.' })
    } finally {
      delete process.env.SMTP_MAX_BYTES
    }
    expect(await messagesOf(inbox.id)).toHaveLength(0)
  })

  it('takes a message larger than the API body cap of 1 MB', async () => {
    const inbox = await makeInbox(t)
    const res = await post(mime(inbox.address) + 'y'.repeat(2 * 1024 * 1024), {
      authorization: `Bearer ${secret}`,
      'content-type': 'message/rfc822',
    })
    expect(res.status).toBe(200)
    expect((await messagesOf(inbox.id))[0].size_bytes).toBeGreaterThan(2 * 1024 * 1024)
  })

  it('answers 404 when no recipient is an inbox here, 400 for bad base64 and 415 for another body type', async () => {
    const auth = { authorization: `Bearer ${secret}` }
    const unknown = await post(mime('nobody@agents.localhost'), { ...auth, 'content-type': 'message/rfc822' })
    expect(unknown.status).toBe(404)
    expect((await unknown.json()).error).toEqual({ code: 'not_found', message: 'No inbox here for nobody@agents.localhost.' })
    const bad = await post(JSON.stringify({ raw_base64: '%%%', envelope: { to: ['a@b'] } }), {
      ...auth,
      'content-type': 'application/json',
    })
    expect(bad.status).toBe(400)
    expect((await bad.json()).error.code).toBe('bad_request')
    const form = await post('a=b', { ...auth, 'content-type': 'application/x-www-form-urlencoded' })
    expect(form.status).toBe(415)
  })
})
