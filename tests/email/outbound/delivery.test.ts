import { generateKeyPairSync } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { dkimVerify } from 'mailauth/lib/dkim/verify'
import { SMTPServer } from 'smtp-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../../functions/jobs.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { eventually, runnerPool } from '../../_core/jobs/helpers.ts'
import { headersOf, inbox, storedMessage, verifiedDomain } from './arrange.ts'

// The runner delivers every organisation's queued mail: this file has a database of its own, so it never
// takes another file's. A loopback SMTP server stands in for the remote mail server behind SMTP_URL.
let drop: () => Promise<void>
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let sink: SMTPServer
let sinkUrl: string
const received: { from: string; to: string[]; raw: Buffer }[] = []
let refuseWith: number | null = null

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  sink = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (refuseWith === null) return callback()
      const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: refuseWith })
      callback(error)
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()))
  sinkUrl = `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) })
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()))
  await drop?.()
})

afterEach(() => {
  delete process.env.SMTP_URL
  delete process.env.EMAIL_SHARED_DKIM_SELECTOR
  delete process.env.EMAIL_SHARED_DKIM_PRIVATE_KEY
  refuseWith = null
})

/** An organisation with an inbox and an endpoint taking message events (events nobody listens to are not written). */
async function sender(options: { domain?: boolean } = {}) {
  const t = await createTenant()
  const domain = options.domain ? await verifiedDomain(t) : undefined
  const box = await inbox(t, { domain, localPart: `agent-${crypto.randomUUID().slice(0, 6)}` })
  await serviceSql()`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${t.org.id}, 'https://hooks.example.com/mail', ${['message.*']}, 'whsec_test')`
  return { t, key: await t.key(), box, domain }
}

/** A DNS resolver answering TXT records from a table, as mailauth asks one; anything else does not exist. */
const table =
  (records: Record<string, string>) =>
  async (name: string, type: string): Promise<string[][]> => {
    if (type === 'TXT' && records[name]) return [[records[name]]]
    throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' })
  }

const send = (key: string, body: Record<string, unknown>) => api.call('POST', '/messages/send', { key, body })

const settled = (messageId: string) =>
  eventually(async () => {
    const m = await storedMessage(messageId)
    return !['queued', 'sending'].includes(m.status) && m
  }, `message ${messageId} has left`)

const eventsOf = (t: Tenant, type: string) =>
  serviceSql()<{ data: any }[]>`select data from agentry.events where org_id = ${t.org.id} and type = ${type} order by created_at`

describe('the email.send_message job', () => {
  it("hands mail for other servers to SMTP_URL's relay, DKIM-signed with the verified domain's key", async () => {
    process.env.SMTP_URL = sinkUrl
    const { t, key, box, domain } = await sender({ domain: true })
    const res = await send(key, {
      to: 'Reader <reader@remote.example>',
      bcc: 'audit@remote.example',
      subject: 'Signed',
      text: 'Hello.',
      inbox_id: box.id,
    })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    const message = await settled(res.body.data.message_id)
    expect(message.status).toBe('sent')
    expect(message.error).toBeNull()

    const mail = received.find((r) => r.raw.includes(message.message_id_header))!
    expect(mail.from).toBe(box.address)
    expect(mail.to.sort()).toEqual(['audit@remote.example', 'reader@remote.example'])
    expect(headersOf(mail.raw)).not.toContain('audit@remote.example')
    const records: Record<string, string> = { [`${domain!.selector}._domainkey.${domain!.name}`]: `v=DKIM1; k=rsa; p=${domain!.publicKey}` }
    const verdict = await dkimVerify(mail.raw, { resolver: table(records) } as never)
    expect(verdict.results.map((r: any) => [r.signingDomain, r.selector, r.status.result])).toEqual([[domain!.name, 'agentry', 'pass']])

    const [event] = await eventsOf(t, 'message.sent')
    expect(event.data).toMatchObject({
      inbox_id: box.id,
      thread_id: res.body.data.thread_id,
      message_id: message.id,
      status: 'sent',
      recipients: expect.arrayContaining(['reader@remote.example', 'audit@remote.example']),
    })
  })

  it('sends unsigned from the shared domain when no shared DKIM key is configured', async () => {
    process.env.SMTP_URL = sinkUrl
    const { key, box } = await sender()
    const res = await send(key, { to: 'reader@remote.example', subject: 'Unsigned', text: 'Hello.', inbox_id: box.id })
    const message = await settled(res.body.data.message_id)
    expect(message.status).toBe('sent')
    const mail = received.find((r) => r.raw.includes(message.message_id_header))!
    expect(headersOf(mail.raw)).not.toMatch(/^DKIM-Signature:/im)
  })

  it('signs mail from the shared domain with EMAIL_SHARED_DKIM_* when they are set', async () => {
    process.env.SMTP_URL = sinkUrl
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    process.env.EMAIL_SHARED_DKIM_SELECTOR = 'shared'
    process.env.EMAIL_SHARED_DKIM_PRIVATE_KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    const { key, box } = await sender()
    const res = await send(key, { to: 'reader@remote.example', subject: 'Shared', text: 'Hello.', inbox_id: box.id })
    const message = await settled(res.body.data.message_id)
    expect(message.status).toBe('sent')
    const mail = received.find((r) => r.raw.includes(message.message_id_header))!
    const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
    const verdict = await dkimVerify(mail.raw, {
      resolver: table({ 'shared._domainkey.agents.localhost': `v=DKIM1; k=rsa; p=${spki}` }),
    } as never)
    expect(verdict.results.map((r: any) => [r.signingDomain, r.status.result])).toEqual([['agents.localhost', 'pass']])
  })

  it('tries again after a passing refusal (4xx) and sends once', async () => {
    process.env.SMTP_URL = sinkUrl
    refuseWith = 451
    const { key, box } = await sender()
    const res = await send(key, { to: 'busy@remote.example', subject: 'Later', text: 'Hello.', inbox_id: box.id })
    const messageId = res.body.data.message_id
    const [job] = await eventually(async () => {
      const rows = await serviceSql()`
          select id, status, attempt, last_error from agentry.jobs where payload ->> 'message_id' = ${messageId} and attempt = 1 and status = 'queued'`
      return rows.length === 1 && rows
    }, 'the first attempt failed')
    expect(job.last_error).toMatch(/Mailbox unavailable/)
    expect((await storedMessage(messageId)).status).toBe('sending')
    refuseWith = null
    // The backoff would wait about 5 s: the retry is brought forward instead.
    await serviceSql()`update agentry.jobs set run_at = now() where id = ${job.id}`
    const message = await settled(messageId)
    expect(message.status).toBe('sent')
    expect(received.filter((r) => r.raw.includes(message.message_id_header))).toHaveLength(1)
  })

  it('marks the message failed when the relay refuses it for good (5xx)', async () => {
    process.env.SMTP_URL = sinkUrl
    refuseWith = 550
    const { t, key, box } = await sender()
    const res = await send(key, { to: 'gone@remote.example', subject: 'Bounce', text: 'Hello.', inbox_id: box.id })
    const message = await settled(res.body.data.message_id)
    expect(message.status).toBe('failed')
    expect(message.error).toMatch(/^The relay refused the message: /)
    expect(await eventsOf(t, 'message.sent')).toEqual([])
  })

  it('keeps mail for other servers in the outbox when no SMTP_URL is set, listed by GET /outbox', async () => {
    const { t, key, box } = await sender()
    const res = await send(key, { to: 'far@remote.example', subject: 'Kept', text: 'Later.', inbox_id: box.id })
    const message = await settled(res.body.data.message_id)
    expect(message.status).toBe('outboxed')
    const readKey = await t.key({ scopes: ['messages:read'] })
    const outbox = await api.call('GET', `/outbox?inbox_id=${box.id}`, { key: readKey })
    expect(outbox.status).toBe(200)
    expect(outbox.body).toMatchObject({ next_cursor: null, has_more: false })
    expect(outbox.body.data).toEqual([
      expect.objectContaining({
        id: message.id,
        status: 'outboxed',
        to_addresses: ['far@remote.example'],
        subject: 'Kept',
        text: 'Later.',
      }),
    ])
    expect(await eventsOf(t, 'message.sent')).toEqual([])
  })

  it('pages the outbox newest first', async () => {
    const { t, key, box } = await sender()
    const ids: string[] = []
    for (const n of [1, 2, 3]) {
      const res = await send(key, { to: 'far@remote.example', subject: `Kept ${n}`, text: 'Later.', inbox_id: box.id })
      ids.push((await settled(res.body.data.message_id)).id)
    }
    const readKey = await t.key({ scopes: ['messages:read'] })
    const first = await api.call('GET', '/outbox?limit=2', { key: readKey })
    expect(first.body.data.map((m: any) => m.id)).toEqual([ids[2], ids[1]])
    expect(first.body.has_more).toBe(true)
    const second = await api.call('GET', `/outbox?limit=2&cursor=${first.body.next_cursor}`, { key: readKey })
    expect(second.body.data.map((m: any) => m.id)).toEqual([ids[0]])
    expect(second.body.has_more).toBe(false)
  })

  it('delivers mail between two inboxes here, and their replies stay in one thread on each side', async () => {
    const alice = await sender()
    const bob = await sender()
    const threadsOf = async (inboxId: string) =>
      serviceSql()<{ id: string; message_count: number }[]>`select id, message_count from agentry.email_threads where inbox_id = ${inboxId}`
    const inboundIn = (inboxId: string) =>
      serviceSql()<{ id: string; thread_id: string; subject: string; text: string }[]>`
        select id, thread_id, subject, text from agentry.email_messages where inbox_id = ${inboxId} and direction = 'inbound' order by created_at`

    const opening = await send(alice.key, {
      to: bob.box.address,
      subject: 'Lunch on Friday?',
      text: 'Are you free?',
      inbox_id: alice.box.id,
    })
    expect(opening.status).toBe(202)
    expect((await settled(opening.body.data.message_id)).status).toBe('delivered')
    const [arrived] = await eventually(async () => (await inboundIn(bob.box.id)).length === 1 && inboundIn(bob.box.id), 'bob has the mail')
    expect(arrived).toMatchObject({ subject: 'Lunch on Friday?', text: expect.stringMatching(/^Are you free\?\s*$/) })

    const answer = await send(bob.key, {
      to: alice.box.address,
      subject: 'Lunch on Friday?',
      text: 'Yes, noon.',
      thread_id: arrived.thread_id,
    })
    expect(answer.status).toBe(202)
    expect((await settled(answer.body.data.message_id)).status).toBe('delivered')
    const [reply] = await eventually(
      async () => (await inboundIn(alice.box.id)).length === 1 && inboundIn(alice.box.id),
      'alice has the reply',
    )
    expect(reply).toMatchObject({ thread_id: opening.body.data.thread_id, subject: 'Re: Lunch on Friday?' })

    const confirm = await send(alice.key, {
      to: bob.box.address,
      subject: 'Re: Lunch on Friday?',
      text: 'See you.',
      thread_id: reply.thread_id,
    })
    expect((await settled(confirm.body.data.message_id)).status).toBe('delivered')
    await eventually(async () => (await inboundIn(bob.box.id)).length === 2, 'bob has the confirmation')
    expect((await inboundIn(bob.box.id)).map((m) => m.thread_id)).toEqual([arrived.thread_id, arrived.thread_id])

    expect(await threadsOf(alice.box.id)).toEqual([{ id: opening.body.data.thread_id, message_count: 3 }])
    expect(await threadsOf(bob.box.id)).toEqual([{ id: arrived.thread_id, message_count: 3 }])
    const [sent] = await eventsOf(alice.t, 'message.sent')
    expect(sent.data).toMatchObject({ status: 'delivered', recipients: [bob.box.address] })
  })

  it('delivers to the local inbox and outboxes the rest when a send mixes them without a relay', async () => {
    const alice = await sender()
    const bob = await sender()
    const res = await send(alice.key, {
      to: [bob.box.address, 'far@remote.example'],
      subject: 'Mixed',
      text: 'Both.',
      inbox_id: alice.box.id,
    })
    expect((await settled(res.body.data.message_id)).status).toBe('outboxed')
    const [row] =
      await serviceSql()`select count(*)::int as n from agentry.email_messages where inbox_id = ${bob.box.id} and subject = 'Mixed'`
    expect(row.n).toBe(1)
  })
})
