import type { AddressInfo } from 'node:net'
import PostalMime from 'postal-mime'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../../functions/jobs.ts'
import { eventually, runnerPool } from '../../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, sendMail, startInboundRig } from '../inbound/smtp.ts'
import { inbox } from '../outbound/arrange.ts'

// Replies and forwards with `send_at`: the originals arrive over real SMTP, the scheduled message waits in the
// job queue, and the job runner hands it at its time to a loopback SMTP server standing in for the relay behind
// SMTP_URL, which notes when each message reached it. A database of its own, so no other file's runner takes
// these jobs.
let drop: () => Promise<void>
let api: TestApi
let rig: InboundRig
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let sink: SMTPServer
const relayed: { raw: Buffer; at: number }[] = []
let t: Tenant
let key: string
let box: { id: string; address: string }

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  rig = await startInboundRig()
  sink = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        relayed.push({ raw: Buffer.concat(chunks), at: Date.now() })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()))
  process.env.SMTP_URL = `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 200, onError: (e) => console.error(e) })
  await runner.ready
  t = await createTenant()
  key = await t.key({ scopes: ['messages:write'] })
  box = await inbox(t, { name: 'Support', localPart: `support-${crypto.randomUUID().slice(0, 8)}` })
})

afterAll(async () => {
  delete process.env.SMTP_URL
  await runner?.stop()
  await runnerSql?.end()
  await rig?.close()
  await api?.close()
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()))
  await drop?.()
})

const remote = (name: string) => `${name}@remote.example`
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const inSeconds = (s: number) => new Date(Date.now() + s * 1000)

/** A message received over SMTP by the inbox `to`; answers its stored id, thread and Message-ID. */
async function received(to = box.address, subject = 'Quarterly report') {
  const messageId = `${crypto.randomUUID()}@remote.example`
  const info = await sendMail(rig, { messageId: `<${messageId}>`, from: `Ann <${remote('ann')}>`, to, subject, text: 'Numbers?' })
  expect(info.response).toMatch(/^250 /)
  const [row] = await serviceSql()<{ id: string; thread_id: string }[]>`
    select id, thread_id from agentry.email_messages where message_id_header = ${messageId}`
  return { id: row.id, threadId: row.thread_id, messageId }
}

const headerOf = async (id: string) =>
  (await serviceSql()<{ message_id_header: string }[]>`select message_id_header from agentry.email_messages where id = ${id}`)[0]
    .message_id_header
const relayedCopy = async (id: string) => {
  const header = await headerOf(id)
  return relayed.find((r) => r.raw.includes(header))
}
const statusOf = async (id: string) =>
  (await serviceSql()<{ status: string }[]>`select status from agentry.email_messages where id = ${id}`)[0].status
const outboundIn = async (inboxId: string) =>
  (await serviceSql()`select 1 from agentry.email_messages where inbox_id = ${inboxId} and direction = 'outbound'`).length

const reply = (id: string, body: Record<string, unknown>, k = key) => api.call('POST', `/messages/${id}/reply`, { key: k, body })
const forward = (id: string, body: Record<string, unknown>, k = key) => api.call('POST', `/messages/${id}/forward`, { key: k, body })

describe('a reply with send_at', () => {
  it('waits as scheduled, is not delivered before its time, and is delivered after it, threaded', async () => {
    const original = await received()
    const sendAt = inSeconds(3)
    const res = await reply(original.id, { text: 'Tomorrow morning.', send_at: sendAt.toISOString() })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({
      thread_id: original.threadId,
      status: 'scheduled',
      send_at: sendAt.toISOString(),
      accepted: [remote('ann')],
    })
    const id = res.body.data.message_id as string
    expect(await statusOf(id)).toBe('scheduled')

    await sleep(Math.max(0, sendAt.getTime() - Date.now() - 1000))
    expect(await relayedCopy(id)).toBeUndefined()
    expect(await statusOf(id)).toBe('scheduled')

    const copy = await eventually(() => relayedCopy(id), 'the reply is relayed', 15_000)
    expect(copy.at).toBeGreaterThanOrEqual(sendAt.getTime())
    expect(copy.at).toBeLessThanOrEqual(sendAt.getTime() + 10_000)
    const mail = await PostalMime.parse(copy.raw)
    expect(mail.subject).toBe('Re: Quarterly report')
    expect(mail.inReplyTo).toBe(`<${original.messageId}>`)
    expect(mail.text?.trim()).toBe('Tomorrow morning.')
    await eventually(async () => (await statusOf(id)) === 'sent', 'it is recorded sent', 15_000)
  }, 40_000)

  it('is refused with 400 for a time in the past, queuing nothing', async () => {
    const original = await received()
    const before = await outboundIn(box.id)
    const res = await reply(original.id, { text: 'Late.', send_at: new Date(Date.now() - 3600_000).toISOString() })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.message).toMatch(/^send_at: .* is in the past; give a time from now on, or leave it out to send now\.$/)
    expect(await outboundIn(box.id)).toBe(before)
  })
})

describe('a forward with send_at', () => {
  it('is refused with 400 validation_failed for a time in the past or more than 30 days ahead, queuing nothing', async () => {
    const original = await received()
    const before = await outboundIn(box.id)
    const past = await forward(original.id, { to: remote('legal'), send_at: new Date(Date.now() - 3600_000).toISOString() })
    expect(past.status).toBe(400)
    expect(past.body.error.code).toBe('validation_failed')
    expect(past.body.error.message).toMatch(/^send_at: .* is in the past; give a time from now on, or leave it out to send now\.$/)
    const far = await forward(original.id, { to: remote('legal'), send_at: new Date(Date.now() + 31 * 86_400_000).toISOString() })
    expect(far.status).toBe(400)
    expect(far.body.error).toEqual({ code: 'validation_failed', message: 'send_at: a send may be scheduled at most 30 days ahead.' })
    const malformed = await forward(original.id, { to: remote('legal'), send_at: 'tomorrow' })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.code).toBe('validation_failed')
    expect(await outboundIn(box.id)).toBe(before)
  })

  it('is never delivered once cancelled with DELETE /messages/{id}/schedule', async () => {
    const original = await received()
    const sendAt = inSeconds(2)
    const res = await forward(original.id, { to: remote('legal'), inline: true, send_at: sendAt.toISOString() })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({ status: 'scheduled', send_at: sendAt.toISOString(), accepted: [remote('legal')] })
    const id = res.body.data.message_id as string
    const cancelled = await api.call('DELETE', `/messages/${id}/schedule`, { key })
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toEqual({ data: { message_id: id, status: 'cancelled' } })

    // Its job comes due and finds nothing to send.
    await eventually(
      async () =>
        (await serviceSql()`select 1 from agentry.jobs where payload ->> 'message_id' = ${id} and status = 'succeeded'`).length === 1,
      'its job has run',
      15_000,
    )
    expect(Date.now()).toBeGreaterThanOrEqual(sendAt.getTime())
    expect(await relayedCopy(id)).toBeUndefined()
    expect(await statusOf(id)).toBe('cancelled')
  }, 30_000)
})

describe('in an inbox that requires approval', () => {
  it("keeps an agent's scheduled reply as a pending_approval draft with its send_at, scheduled for then once an organisation key sends it", async () => {
    const agentBox = await inbox(t, { agent: 'agent', localPart: `approved-${crypto.randomUUID().slice(0, 8)}` })
    await serviceSql()`update agentry.email_inboxes set requires_approval = true where id = ${agentBox.id}`
    const original = await received(agentBox.address, 'Refund')
    const sendAt = inSeconds(3600)
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })

    const res = await reply(original.id, { text: 'Refunded.', send_at: sendAt.toISOString() }, agentKey)
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({
      status: 'pending_approval',
      thread_id: original.threadId,
      subject: 'Re: Refund',
    })
    expect(new Date(res.body.data.send_at).toISOString()).toBe(sendAt.toISOString())
    expect(await outboundIn(agentBox.id)).toBe(0)

    const sent = await api.call('POST', `/drafts/${res.body.data.id}/send`, { key: await t.key() })
    expect(sent.status, JSON.stringify(sent.body)).toBe(202)
    const id = sent.body.data.message_id as string
    expect(await statusOf(id)).toBe('scheduled')
    const [job] = await serviceSql()<{ run_at: Date }[]>`select run_at from agentry.jobs where payload ->> 'message_id' = ${id}`
    expect(job.run_at.toISOString()).toBe(sendAt.toISOString())
    const cancelled = await api.call('DELETE', `/messages/${id}/schedule`, { key })
    expect(cancelled.status).toBe(200)
  })

  it("refuses an agent's reply scheduled in the past with 400, keeping no draft", async () => {
    const agentBox = await inbox(t, { agent: 'agent', localPart: `approved-${crypto.randomUUID().slice(0, 8)}` })
    await serviceSql()`update agentry.email_inboxes set requires_approval = true where id = ${agentBox.id}`
    const original = await received(agentBox.address, 'Refund')
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })
    const res = await reply(original.id, { text: 'Refunded.', send_at: new Date(Date.now() - 3600_000).toISOString() }, agentKey)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    const drafts = await serviceSql()`select 1 from agentry.email_drafts where inbox_id = ${agentBox.id}`
    expect(drafts.length).toBe(0)
  })
})
