import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { releaseOutboxRoute } from '../../../functions/email/outbound/release-outbox.ts'
import { jobHandlers } from '../../../functions/jobs.ts'
import { eventually, runnerPool } from '../../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { describeSecurity } from '../../harness/security.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { inbox, storedMessage } from './arrange.ts'

// The runner delivers every organisation's queued mail: this file has a database of its own, so it never
// takes another file's. A loopback SMTP server stands in for the relay SMTP_URL names once it is configured.
let drop: () => Promise<void>
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let sink: SMTPServer
let sinkUrl: string
const received: { to: string[]; raw: string }[] = []

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  sink = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') })
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
})

const settled = (messageId: string) =>
  eventually(async () => {
    const m = await storedMessage(messageId)
    return !['queued', 'sending'].includes(m.status) && m
  }, `message ${messageId} has left`)

/** Sends with no relay configured, and waits until the message is in the outbox. */
async function outboxed(key: string, inboxId: string, to: string, subject = 'Later'): Promise<string> {
  const res = await api.call('POST', '/messages/send', { key, body: { inbox_id: inboxId, to, subject, text: 'Kept for later.' } })
  expect(res.status, JSON.stringify(res.body)).toBe(202)
  const message = await settled(res.body.data.message_id)
  expect(message.status).toBe('outboxed')
  return message.id
}

const release = (key: string, body?: unknown) => api.call('POST', '/outbox/release', { key, body })

async function sender(): Promise<{ t: Tenant; key: string; box: { id: string; address: string } }> {
  const t = await createTenant()
  return { t, key: await t.key({ scopes: ['messages:read', 'messages:write'] }), box: await inbox(t) }
}

describe('POST /outbox/release', () => {
  it('relays outboxed mail once an SMTP relay is configured, and empties the outbox', async () => {
    const { key, box } = await sender()
    const id = await outboxed(key, box.id, 'far@remote.example', 'Released at last')
    expect(received.filter((r) => r.raw.includes('Released at last'))).toEqual([])

    process.env.SMTP_URL = sinkUrl
    const res = await release(key)
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toEqual({ queued: 1, message_ids: [id], remaining: 0 })

    const message = await settled(id)
    expect(message.status).toBe('sent')
    expect(message.error).toBeNull()
    const relayed = received.filter((r) => r.raw.includes('Subject: Released at last'))
    expect(relayed).toHaveLength(1)
    expect(relayed[0].to).toEqual(['far@remote.example'])
    const outbox = await api.call('GET', `/outbox?inbox_id=${box.id}`, { key })
    expect(outbox.body.data).toEqual([])
  })

  it('relays only the remote recipients of mail that was also for an inbox here, which keeps it once', async () => {
    const { key, box } = await sender()
    const local = await inbox(await createTenant())
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: [local.address, 'far@remote.example'], subject: 'Mixed company', text: 'Hello both.' },
    })
    const id = res.body.data.message_id as string
    expect((await settled(id)).status).toBe('outboxed')
    process.env.SMTP_URL = sinkUrl
    expect((await release(key)).body.data.queued).toBe(1)
    expect((await settled(id)).status).toBe('sent')
    const relayed = received.filter((r) => r.raw.includes('Subject: Mixed company'))
    expect(relayed.map((r) => r.to)).toEqual([['far@remote.example']])
    const [{ n }] = await serviceSql()<{ n: number }[]>`
      select count(*)::int as n from agentry.email_messages where inbox_id = ${local.id} and subject = 'Mixed company'`
    expect(n).toBe(1)
  })

  it('puts the mail back in the outbox when there is still no relay', async () => {
    const { key, box } = await sender()
    const id = await outboxed(key, box.id, 'far@remote.example')
    const res = await release(key, {})
    expect(res.status).toBe(202)
    expect(res.body.data).toEqual({ queued: 1, message_ids: [id], remaining: 0 })
    expect((await settled(id)).status).toBe('outboxed')
    const outbox = await api.call('GET', `/outbox?inbox_id=${box.id}`, { key })
    expect(outbox.body.data.map((m: { id: string }) => m.id)).toEqual([id])
  })

  it('releases only the messages named in message_ids', async () => {
    const { key, box } = await sender()
    const first = await outboxed(key, box.id, 'one@remote.example')
    const second = await outboxed(key, box.id, 'two@remote.example')
    const res = await release(key, { message_ids: [second, crypto.randomUUID()] })
    expect(res.status).toBe(202)
    expect(res.body.data).toEqual({ queued: 1, message_ids: [second], remaining: 1 })
    expect((await storedMessage(first)).status).toBe('outboxed')
  })

  it("leaves another organisation's outbox alone", async () => {
    const theirs = await sender()
    const their = await outboxed(theirs.key, theirs.box.id, 'far@remote.example')
    const mine = await sender()
    const named = await release(mine.key, { message_ids: [their] })
    expect(named.body.data).toEqual({ queued: 0, message_ids: [], remaining: 0 })
    const all = await release(mine.key)
    expect(all.body.data).toEqual({ queued: 0, message_ids: [], remaining: 0 })
    expect((await storedMessage(their)).status).toBe('outboxed')
  })

  it("lets an agent key release only its own agent's inboxes' mail", async () => {
    const t = await createTenant()
    const orgKey = await t.key()
    const own = await outboxed(orgKey, (await inbox(t, { agent: 'agent' })).id, 'a@remote.example')
    const other = await outboxed(orgKey, (await inbox(t, { agent: 'otherAgent' })).id, 'b@remote.example')
    const res = await release(await t.key({ agent: 'agent', scopes: ['messages:write'] }))
    expect(res.body.data).toEqual({ queued: 1, message_ids: [own], remaining: 0 })
    expect((await storedMessage(other)).status).toBe('outboxed')
  })

  it('does not release mail that was never outboxed', async () => {
    const { t, key, box } = await sender()
    process.env.SMTP_URL = sinkUrl
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: 'x@remote.example', subject: 'Sent', text: 'Hi' },
    })
    expect((await settled(res.body.data.message_id)).status).toBe('sent')
    const again = await release(await t.key(), { message_ids: [res.body.data.message_id] })
    expect(again.body.data).toEqual({ queued: 0, message_ids: [], remaining: 0 })
  })

  it('refuses message_ids that are not UUIDs, or an empty list, with 400', async () => {
    const { key } = await sender()
    for (const body of [{ message_ids: ['nope'] }, { message_ids: [] }, { message_ids: 'x' }, { other: true }]) {
      const res = await release(key, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })
})

describeSecurity(releaseOutboxRoute, { body: {} }, () => api)
