import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../../functions/jobs.ts'
import { eventually, runnerPool } from '../../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, sendMail, startInboundRig } from '../inbound/smtp.ts'
import { inbox, storedMessage } from '../outbound/arrange.ts'
import { bounceReport, complaintReport } from './report-mail.ts'

// Delivery monitoring from what really happens: a loopback SMTP server stands in for the relay and refuses
// one address for good; bounce messages and feedback reports come back through the SMTP ingress, sent by
// nodemailer; the job runner delivers. One organisation's story, told in order.
let drop: () => Promise<void>
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let sink: SMTPServer
let rig: InboundRig
const relayed: { to: string[]; raw: Buffer }[] = []
const refused = 'gone@remote.example'
const busy = 'busy@remote.example'

let t: Tenant
let key: string
let box: { id: string; address: string }
let neighbour: { id: string; address: string }
const sent: Record<string, { id: string; header: string }> = {}

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  rig = await startInboundRig()
  sink = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address === busy) return callback(Object.assign(new Error('4.2.2 Mailbox full, try later'), { responseCode: 452 }))
      if (address.address !== refused) return callback()
      callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 }))
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        relayed.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', () => resolve()))
  process.env.SMTP_URL = `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) })

  t = await createTenant()
  key = await t.key({ scopes: ['messages:read', 'messages:write'] })
  box = await inbox(t, { localPart: `sender-${crypto.randomUUID().slice(0, 6)}` })
  neighbour = await inbox(await createTenant(), { localPart: `neighbour-${crypto.randomUUID().slice(0, 6)}` })
  await serviceSql()`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${t.org.id}, 'https://hooks.example.com/mail', ${['message.*']}, 'whsec_test')`
})

afterAll(async () => {
  delete process.env.SMTP_URL
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
  await rig?.close()
  await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()))
  await drop?.()
})

const send = (to: string[], subject: string) =>
  api.call('POST', '/messages/send', { key, body: { to, subject, text: 'Hello.', inbox_id: box.id } })

async function sendAndSettle(name: string, to: string[]) {
  const res = await send(to, name)
  expect(res.status, JSON.stringify(res.body)).toBe(202)
  const id = res.body.data.message_id
  const message = await eventually(async () => {
    const m = await storedMessage(id)
    return !['queued', 'sending'].includes(m.status) && m
  }, `${name} has left`)
  sent[name] = { id, header: message.message_id_header }
  return { res, message }
}

const eventsOf = async (messageId: string) =>
  (
    await serviceSql()<{ recipient: string; event_type: string; detail: any }[]>`
      select recipient, event_type, detail from agentry.email_delivery_events where message_id = ${messageId}
      order by recipient, occurred_at, id`
  ).map((e) => [e.recipient, e.event_type])

const suppressions = () =>
  serviceSql()<{ address: string; reason: string; source_message_id: string }[]>`
    select address, reason, source_message_id::text from agentry.email_suppressions where inbox_id = ${box.id} order by address`

const webhookEvents = (type: string) =>
  serviceSql()<{ data: any }[]>`select data from agentry.events where org_id = ${t.org.id} and type = ${type} order by created_at`

describe('delivery monitoring', () => {
  it('records a 5xx refusal from the relay as bounced and suppresses the address, and local delivery as delivered', async () => {
    const { message } = await sendAndSettle('first', [refused, 'ok@remote.example', neighbour.address])
    expect(message.status).toBe('sent')
    expect(message.error).toMatch(/gone@remote\.example: .*550/)
    expect(relayed.some((r) => r.to.includes(refused))).toBe(false)

    expect(await eventsOf(message.id)).toEqual([
      [refused, 'sent'],
      [refused, 'bounced'],
      [neighbour.address, 'sent'],
      [neighbour.address, 'delivered'],
      ['ok@remote.example', 'sent'],
    ])
    const [bounce] = await serviceSql()<{ detail: any }[]>`
      select detail from agentry.email_delivery_events where message_id = ${message.id} and event_type = 'bounced'`
    expect(bounce.detail).toMatchObject({ via: 'relay', smtp_code: 550 })
    expect(await suppressions()).toEqual([{ address: refused, reason: 'hard_bounce', source_message_id: message.id }])
    expect((await webhookEvents('message.bounced')).map((e) => e.data)).toEqual([
      expect.objectContaining({ inbox_id: box.id, message_id: message.id, recipient: refused, permanent: true }),
    ])
    expect((await webhookEvents('message.delivered')).map((e) => e.data)).toEqual([
      { inbox_id: box.id, message_id: message.id, recipients: [neighbour.address] },
    ])
  })

  it('links a bounce message (DSN) that arrives at the inbox over SMTP to the original, and suppresses the address', async () => {
    const { message } = await sendAndSettle('second', ['later@remote.example'])
    expect(message.status).toBe('sent')
    await sendMail(rig, {
      envelope: { from: '', to: [box.address] },
      raw: bounceReport({
        to: box.address,
        originalMessageId: message.message_id_header,
        recipient: 'later@remote.example',
        status: '5.1.1',
      }),
    })

    expect(await eventsOf(message.id)).toEqual([
      ['later@remote.example', 'sent'],
      ['later@remote.example', 'bounced'],
    ])
    const [bounce] = await serviceSql()<{ detail: any }[]>`
      select detail from agentry.email_delivery_events where message_id = ${message.id} and event_type = 'bounced'`
    expect(bounce.detail).toMatchObject({
      via: 'dsn',
      action: 'failed',
      status: '5.1.1',
      diagnostic_code: 'smtp; 550 5.1.1 <later@remote.example>: Recipient address rejected: User unknown',
      remote_mta: 'dns; inbound.remote.example',
    })
    expect((await suppressions()).map((s) => [s.address, s.reason, s.source_message_id])).toContainEqual([
      'later@remote.example',
      'hard_bounce',
      message.id,
    ])
    // The report is kept as a message of the inbox too.
    const [report] = await serviceSql()<{ subject: string }[]>`
      select subject from agentry.email_messages where inbox_id = ${box.id} and direction = 'inbound'`
    expect(report.subject).toBe('Undelivered Mail Returned to Sender')
  })

  it('records a passing failure (4.x.x) in a DSN as bounced without suppressing the address', async () => {
    const { message } = await sendAndSettle('transient', ['full@remote.example'])
    await sendMail(rig, {
      envelope: { from: '', to: [box.address] },
      raw: bounceReport({
        to: box.address,
        originalMessageId: message.message_id_header,
        recipient: 'full@remote.example',
        status: '4.2.2',
      }),
    })
    expect(await eventsOf(message.id)).toEqual([
      ['full@remote.example', 'sent'],
      ['full@remote.example', 'bounced'],
    ])
    expect((await suppressions()).map((s) => s.address)).not.toContain('full@remote.example')
  })

  it('turns a feedback report (ARF) into a complaint and a suppression', async () => {
    const { message } = await sendAndSettle('third', ['reader@remote.example'])
    await sendMail(rig, {
      envelope: { from: 'fbl@isp.example', to: [box.address] },
      raw: complaintReport({ to: box.address, originalMessageId: message.message_id_header, recipient: 'reader@remote.example' }),
    })
    expect(await eventsOf(message.id)).toEqual([
      ['reader@remote.example', 'sent'],
      ['reader@remote.example', 'complained'],
    ])
    expect((await suppressions()).map((s) => [s.address, s.reason])).toContainEqual(['reader@remote.example', 'complaint'])
    expect((await webhookEvents('message.complained')).map((e) => e.data)).toEqual([
      expect.objectContaining({ inbox_id: box.id, message_id: message.id, recipient: 'reader@remote.example' }),
    ])
  })

  it('ignores a report about a message the inbox never sent, and one naming someone it was not sent to', async () => {
    const before = (await suppressions()).length
    await sendMail(rig, {
      envelope: { from: '', to: [box.address] },
      raw: bounceReport({
        to: box.address,
        originalMessageId: 'never-sent@agents.localhost',
        recipient: 'x@remote.example',
        status: '5.1.1',
      }),
    })
    await sendMail(rig, {
      envelope: { from: '', to: [box.address] },
      raw: complaintReport({ to: box.address, originalMessageId: sent.third.header, recipient: 'ceo@remote.example' }),
    })
    expect((await suppressions()).length).toBe(before)
    expect(await eventsOf(sent.third.id)).toEqual([
      ['reader@remote.example', 'sent'],
      ['reader@remote.example', 'complained'],
    ])
  })

  it('leaves suppressed recipients out of the next send, lists them and sends them nothing', async () => {
    const { res, message } = await sendAndSettle('fourth', ['Reader <reader@remote.example>', refused, 'new@remote.example'])
    expect(res.body.data.accepted).toEqual(['new@remote.example'])
    expect(res.body.data.suppressed.sort()).toEqual([refused, 'reader@remote.example'])
    expect(message.to_addresses).toEqual(['new@remote.example'])
    const mail = relayed.filter((r) => r.raw.includes(message.message_id_header))
    expect(mail.map((m) => m.to)).toEqual([['new@remote.example']])
    expect(await eventsOf(message.id)).toEqual([
      [refused, 'suppressed'],
      ['new@remote.example', 'sent'],
      ['reader@remote.example', 'suppressed'],
    ])
  })

  it('refuses with 422 a send whose every recipient is suppressed, queuing nothing', async () => {
    const count = async () =>
      (await serviceSql()<{ n: number }[]>`select count(*)::int as n from agentry.email_messages where inbox_id = ${box.id}`)[0].n
    const before = await count()
    const res = await send([refused, 'reader@remote.example'], 'Nobody')
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('unprocessable')
    expect(res.body.error.message).toMatch(/^Every recipient is on the sending inbox's suppression list \(/)
    expect(await count()).toBe(before)
  })

  it('counts what happened in GET /delivery/metrics, with exact rates', async () => {
    const res = await api.call('GET', `/delivery/metrics?inbox_id=${box.id}&period=7d`, { key })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    // first: 3 sent (1 bounced, 1 delivered); second, transient, third: 1 sent each (2 bounced, 1 complained);
    // fourth: 1 sent, 2 suppressed.
    expect(res.body.data).toMatchObject({
      inbox_id: box.id,
      days: 7,
      sent: 7,
      delivered: 1,
      bounced: 3,
      complained: 1,
      failed: 0,
      suppressed: 2,
      delivery_rate: 0.1429,
      bounce_rate: 0.4286,
      complaint_rate: 0.1429,
    })
  })

  it('sends to an address again once its suppression is removed', async () => {
    const list = await api.call('GET', `/delivery/suppressions?inbox_id=${box.id}`, { key })
    const gone = list.body.data.find((s: any) => s.address === refused)
    const removed = await api.call('DELETE', `/delivery/suppressions/${gone.id}`, { key })
    expect(removed.status).toBe(200)
    expect(removed.body.data).toMatchObject({ id: gone.id, address: refused, reason: 'hard_bounce' })
    const again = await send([refused, 'reader@remote.example'], 'Again')
    expect(again.status).toBe(202)
    expect(again.body.data).toMatchObject({ accepted: [refused], suppressed: ['reader@remote.example'] })
  })

  it('records failed for a recipient still refused for now (4xx) when the last attempt is over, and suppresses nothing', async () => {
    const res = await send([busy], 'Busy')
    const id = res.body.data.message_id
    const [job] = await eventually(async () => {
      const rows = await serviceSql()<{ id: string }[]>`
        select id from agentry.jobs where payload ->> 'message_id' = ${id} and attempt = 1 and status = 'queued'`
      return rows.length === 1 && rows
    }, 'the first attempt was refused')
    expect(await eventsOf(id)).toEqual([])
    // The last attempt is brought forward instead of waiting out the backoff.
    await serviceSql()`update agentry.jobs set max_attempts = 2, run_at = now() where id = ${job.id}`
    // The failed hook marks the message, then records what never left.
    const events = await eventually(async () => {
      const e = await eventsOf(id)
      return e.length > 0 && e
    }, 'the failure was recorded')
    expect(events).toEqual([[busy, 'failed']])
    const message = await storedMessage(id)
    expect(message.status).toBe('failed')
    expect(message.error).toMatch(/452/)
    const [failed] = await serviceSql()<{ detail: any }[]>`select detail from agentry.email_delivery_events where message_id = ${id}`
    expect(failed.detail.error).toMatch(/Mailbox full/)
    expect((await suppressions()).map((s) => s.address)).not.toContain(busy)
  })
})
