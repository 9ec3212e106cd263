import type { AddressInfo } from 'node:net'
import PostalMime, { type Email } from 'postal-mime'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../../functions/jobs.ts'
import { eventually, runnerPool } from '../../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, sendMail, startInboundRig } from '../inbound/smtp.ts'
import { inbox } from '../outbound/arrange.ts'

// The originals arrive over real SMTP at the ingress; replies and forwards leave through the job runner to a
// loopback SMTP server standing in for the relay behind SMTP_URL, and what it received is parsed with
// postal-mime. A database of its own, so that no other file's runner takes these jobs.
let drop: () => Promise<void>
let api: TestApi
let rig: InboundRig
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let sink: SMTPServer
const relayed: { to: string[]; raw: Buffer }[] = []
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

/** A message received over SMTP by the inbox; answers its stored id and thread. */
async function received(mail: Parameters<typeof sendMail>[1]): Promise<{ id: string; threadId: string; messageId: string }> {
  const messageId = `${crypto.randomUUID()}@remote.example`
  const info = await sendMail(rig, { messageId: `<${messageId}>`, ...mail })
  expect(info.response).toMatch(/^250 /)
  const [row] = await serviceSql()<{ id: string; thread_id: string }[]>`
    select id, thread_id from agentry.email_messages where message_id_header = ${messageId}`
  return { id: row.id, threadId: row.thread_id, messageId }
}

/** What the relay received for the message queued under `id`, parsed. */
async function delivered(id: string): Promise<{ to: string[]; mail: Email }> {
  const [stored] = await serviceSql()<{ message_id_header: string }[]>`
    select message_id_header from agentry.email_messages where id = ${id}`
  const hit = await eventually(async () => relayed.find((r) => r.raw.includes(stored.message_id_header)), `message ${id} relayed`)
  return { to: [...hit.to].sort(), mail: await PostalMime.parse(hit.raw, { attachmentEncoding: 'utf8' }) }
}

const reply = (id: string, body: Record<string, unknown>, k = key) => api.call('POST', `/messages/${id}/reply`, { key: k, body })
const forward = (id: string, body: Record<string, unknown>, k = key) => api.call('POST', `/messages/${id}/forward`, { key: k, body })
const addresses = (list: { address?: string }[] | undefined) => (list ?? []).map((m) => m.address)

const quarterly = () => ({
  from: 'Ann Example <ann@remote.example>',
  to: [box.address, remote('bob')],
  cc: [`Team <${box.address.replace('@', '+team@')}>`, remote('carol'), remote('bob')],
  replyTo: `Desk <${remote('desk')}>`,
  subject: 'RE: Fwd: Quarterly report',
  references: ['<first@remote.example>', '<second@remote.example>'],
  text: 'Numbers attached.',
  attachments: [{ filename: 'report.csv', content: 'region,total\nnorth,42\n', contentType: 'text/csv' }],
})

describe('POST /messages/{id}/reply', () => {
  it('answers the Reply-To in the same thread, with In-Reply-To, References and one "Re: "', async () => {
    const original = await received(quarterly())
    const res = await reply(original.id, { text: 'Thanks, Ann.' })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({ thread_id: original.threadId, status: 'queued', accepted: [remote('desk')] })
    expect(res.headers.get('x-email-limit-hour')).toBe('100')

    const { to, mail } = await delivered(res.body.data.message_id)
    expect(to).toEqual([remote('desk')])
    expect(mail.from).toMatchObject({ address: box.address, name: 'Support' })
    expect(addresses(mail.to)).toEqual([remote('desk')])
    expect(mail.cc).toBeUndefined()
    expect(mail.subject).toBe('Re: Quarterly report')
    expect(mail.inReplyTo).toBe(`<${original.messageId}>`)
    expect(mail.references).toBe(`<first@remote.example> <second@remote.example> <${original.messageId}>`)
    expect(mail.text?.trim()).toBe('Thanks, Ann.')
    const [thread] = await serviceSql()`select message_count from agentry.email_threads where id = ${original.threadId}`
    expect(thread.message_count).toBe(2)
  })

  it("with reply_all, adds the original's To and Cc, never the inbox's own address (nor its +tag) and nobody twice", async () => {
    const original = await received(quarterly())
    const res = await reply(original.id, { text: 'Thanks, all.', html: '<p>Thanks, all.</p>', reply_all: true })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    const { to, mail } = await delivered(res.body.data.message_id)
    expect(addresses(mail.to)).toEqual([remote('desk')])
    expect(addresses(mail.cc)).toEqual([remote('bob'), remote('carol')])
    expect(to).toEqual([remote('bob'), remote('carol'), remote('desk')])
    expect(mail.html).toContain('<p>Thanks, all.</p>')
    expect(mail.subject).toBe('Re: Quarterly report')
  })

  it("leaves out a recipient on the inbox's suppression list, as a send does", async () => {
    const own = await inbox(t, { localPart: `suppressing-${crypto.randomUUID().slice(0, 8)}` })
    await serviceSql()`
      insert into agentry.email_suppressions (org_id, inbox_id, address, reason) values (${t.org.id}, ${own.id}, ${remote('carol')}, 'hard_bounce')`
    const original = await received({
      from: remote('ann'),
      to: own.address,
      cc: [remote('carol'), remote('bob')],
      subject: 'Lunch',
      text: 'Lunch?',
    })
    const res = await reply(original.id, { text: 'Yes.', reply_all: true })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({ accepted: [remote('ann'), remote('bob')], suppressed: [remote('carol')] })
    const { to, mail } = await delivered(res.body.data.message_id)
    expect(to).toEqual([remote('ann'), remote('bob')])
    expect(addresses(mail.cc)).toEqual([remote('bob')])
  })

  it('answers the sender, by name, when the message has no Reply-To', async () => {
    const original = await received({ from: 'Ann Example <ANN@remote.example>', to: box.address, subject: 'Hello', text: 'Hi?' })
    const res = await reply(original.id, { text: 'Hello Ann.' })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    const { mail } = await delivered(res.body.data.message_id)
    expect(mail.to).toEqual([{ address: remote('ann'), name: 'Ann Example' }])
    expect(mail.references).toBe(`<${original.messageId}>`)
    expect(mail.subject).toBe('Re: Hello')
  })

  it('answers a message the inbox sent to the people it went to', async () => {
    const sent = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: remote('erin'), cc: remote('frank'), subject: 'Plans', text: 'Shall we?' },
    })
    expect(sent.status).toBe(202)
    await delivered(sent.body.data.message_id)
    const res = await reply(sent.body.data.message_id, { text: 'Any news?', reply_all: true })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data.thread_id).toBe(sent.body.data.thread_id)
    const { mail } = await delivered(res.body.data.message_id)
    expect(addresses(mail.to)).toEqual([remote('erin')])
    expect(addresses(mail.cc)).toEqual([remote('frank')])
    expect(mail.subject).toBe('Re: Plans')
  })

  it('refuses with 422, queuing nothing, when nobody but the inbox itself is left to answer', async () => {
    const original = await received({ from: box.address, to: box.address, subject: 'Note to self', text: 'Remember.' })
    const res = await reply(original.id, { text: 'Done.', reply_all: true })
    expect(res.status).toBe(422)
    expect(res.body.error).toEqual({
      code: 'unprocessable',
      message: 'The message has nobody to go to but the inbox itself; nothing was sent.',
    })
    const [row] = await serviceSql()`select count(*)::int as n from agentry.email_messages where thread_id = ${original.threadId}`
    expect(row.n).toBe(1)
  })

  it("answers 404 for another organisation's message, and for another agent's to an agent key", async () => {
    const original = await received({ from: remote('ann'), to: box.address, subject: 'Private', text: 'Secret.' })
    const other = await createTenant()
    const res = await reply(original.id, { text: 'Hijack.' }, await other.key({ scopes: ['messages:write'] }))
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })
    expect((await reply(original.id, { text: 'Hijack.' }, agentKey)).status).toBe(404)
    const [row] = await serviceSql()`select count(*)::int as n from agentry.email_messages where thread_id = ${original.threadId}`
    expect(row.n).toBe(1)
  })

  it('sends once for a retried Idempotency-Key, answering the retry as it answered the first', async () => {
    const original = await received({ from: remote('ann'), to: box.address, subject: 'Once', text: 'Once?' })
    const call = () =>
      api.call('POST', `/messages/${original.id}/reply`, { key, body: { text: 'Once.' }, headers: { 'Idempotency-Key': 'reply-once' } })
    const first = await call()
    const again = await call()
    expect(first.status, JSON.stringify(first.body)).toBe(202)
    expect(again.status).toBe(202)
    expect(again.body).toEqual(first.body)
    const [row] = await serviceSql()`select count(*)::int as n from agentry.email_messages where thread_id = ${original.threadId}`
    expect(row.n).toBe(2)
  })

  it('refuses a body with neither text nor html', async () => {
    const original = await received({ from: remote('ann'), to: box.address, subject: 'Hi', text: 'Hi' })
    const res = await reply(original.id, { reply_all: true })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([{ field: 'text', message: 'text or html is required' }])
  })
})

describe('POST /messages/{id}/forward', () => {
  it('sends the original whole as a message/rfc822 attachment, in a thread of its own, with one "Fwd: "', async () => {
    const original = await received(quarterly())
    const res = await forward(original.id, { to: 'Dan <dan@remote.example>', text: 'FYI, see below.' })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data.accepted).toEqual([remote('dan')])
    expect(res.body.data.thread_id).not.toBe(original.threadId)

    const { to, mail } = await delivered(res.body.data.message_id)
    expect(to).toEqual([remote('dan')])
    expect(mail.to).toEqual([{ address: remote('dan'), name: 'Dan' }])
    expect(mail.subject).toBe('Fwd: Quarterly report')
    expect(mail.inReplyTo).toBeUndefined()
    expect(mail.text?.trim()).toBe('FYI, see below.')
    expect(mail.attachments.map((a) => [a.filename, a.mimeType])).toEqual([['RE Fwd Quarterly report.eml', 'message/rfc822']])

    const enclosed = await PostalMime.parse(mail.attachments[0].content as string, { attachmentEncoding: 'utf8' })
    expect(enclosed.messageId).toBe(`<${original.messageId}>`)
    expect(enclosed.from).toMatchObject({ address: remote('ann'), name: 'Ann Example' })
    expect(enclosed.subject).toBe('RE: Fwd: Quarterly report')
    expect(enclosed.attachments.map((a) => [a.filename, a.content])).toEqual([['report.csv', 'region,total\nnorth,42\n']])
  })

  it('quotes the original inline under a header block and carries its attachments', async () => {
    const original = await received({ ...quarterly(), subject: 'Fwd: Re: Quarterly report', html: '<p>Numbers <b>attached</b>.</p>' })
    const res = await forward(original.id, { to: [remote('dan'), remote('erin')], cc: remote('frank'), text: 'FYI.', inline: true })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    const { to, mail } = await delivered(res.body.data.message_id)
    expect(to).toEqual([remote('dan'), remote('erin'), remote('frank')])
    expect(addresses(mail.cc)).toEqual([remote('frank')])
    expect(mail.subject).toBe('Fwd: Quarterly report')
    expect(mail.text).toContain(['FYI.', '', '---------- Forwarded message ---------', 'From: Ann Example <ann@remote.example>'].join('\n'))
    expect(mail.text).toContain('Subject: Fwd: Re: Quarterly report')
    expect(mail.text).toContain(`To: ${box.address}, ${remote('bob')}`)
    expect(mail.text).toContain('Numbers attached.')
    expect(mail.html).toContain('<blockquote><p>Numbers <b>attached</b>.</p>')
    expect(mail.html).toContain('From: Ann Example &lt;ann@remote.example&gt;')
    expect(mail.attachments.map((a) => [a.filename, a.mimeType, a.content])).toEqual([
      ['report.csv', 'text/csv', 'region,total\nnorth,42\n'],
    ])
  })

  it('refuses a recipient with a line break (header injection), queuing nothing', async () => {
    const original = await received({ from: remote('ann'), to: box.address, subject: 'Hi', text: 'Hi' })
    const res = await forward(original.id, { to: `${remote('dan')}\r\nBcc: victim@example.com` })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toContainEqual({ field: 'to', message: 'must not contain a line break (header injection)' })
  })

  it("answers 404 for another organisation's message", async () => {
    const original = await received({ from: remote('ann'), to: box.address, subject: 'Private', text: 'Secret.' })
    const other = await createTenant()
    const res = await forward(original.id, { to: remote('mallory') }, await other.key({ scopes: ['messages:write'] }))
    expect(res.status).toBe(404)
    expect(res.body.error).toEqual({ code: 'not_found', message: 'Message not found.' })
  })
})

describe('in an inbox that requires approval', () => {
  it("keeps an agent's reply as a pending_approval draft in the thread, which an organisation key then sends", async () => {
    const agentBox = await inbox(t, { agent: 'agent', localPart: `approved-${crypto.randomUUID().slice(0, 8)}` })
    await serviceSql()`update agentry.email_inboxes set requires_approval = true where id = ${agentBox.id}`
    const messageId = `${crypto.randomUUID()}@remote.example`
    expect(
      (
        await sendMail(rig, {
          messageId: `<${messageId}>`,
          from: remote('ann'),
          to: agentBox.address,
          cc: remote('bob'),
          subject: 'Refund',
          text: 'Refund?',
        })
      ).response,
    ).toMatch(/^250 /)
    const [original] = await serviceSql()<{ id: string; thread_id: string }[]>`
      select id, thread_id from agentry.email_messages where message_id_header = ${messageId}`

    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })
    const res = await reply(original.id, { text: 'Refunded.', reply_all: true }, agentKey)
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data).toMatchObject({
      status: 'pending_approval',
      inbox_id: agentBox.id,
      thread_id: original.thread_id,
      subject: 'Re: Refund',
    })
    expect(res.body.message).toMatch(/^The inbox requires approval: nothing was sent/)
    const [count] = await serviceSql()`select count(*)::int as n from agentry.email_messages where thread_id = ${original.thread_id}`
    expect(count.n).toBe(1)

    const sent = await api.call('POST', `/drafts/${res.body.data.id}/send`, { key: await t.key() })
    expect(sent.status, JSON.stringify(sent.body)).toBe(202)
    const [message] = await serviceSql()<{ id: string; thread_id: string }[]>`
      select id, thread_id from agentry.email_messages where thread_id = ${original.thread_id} and direction = 'outbound'`
    const { mail } = await delivered(message.id)
    expect(addresses(mail.to)).toEqual([remote('ann')])
    expect(addresses(mail.cc)).toEqual([remote('bob')])
    expect(mail.inReplyTo).toBe(`<${messageId}>`)
    expect(mail.subject).toBe('Re: Refund')
  })

  it("refuses an agent's forward of the whole original with 409, and holds an inline one as a draft", async () => {
    const agentBox = await inbox(t, { agent: 'agent', localPart: `approved-${crypto.randomUUID().slice(0, 8)}` })
    await serviceSql()`update agentry.email_inboxes set requires_approval = true where id = ${agentBox.id}`
    const messageId = `${crypto.randomUUID()}@remote.example`
    await sendMail(rig, { messageId: `<${messageId}>`, from: remote('ann'), to: agentBox.address, subject: 'Contract', text: 'Signed.' })
    const [original] = await serviceSql()<{ id: string }[]>`select id from agentry.email_messages where message_id_header = ${messageId}`
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })

    const attached = await forward(original.id, { to: remote('legal') }, agentKey)
    expect(attached.status).toBe(409)
    expect(attached.body.error.message).toMatch(/forward with `inline: true`/)
    const inline = await forward(original.id, { to: remote('legal'), inline: true }, agentKey)
    expect(inline.status, JSON.stringify(inline.body)).toBe(202)
    expect(inline.body.data).toMatchObject({ status: 'pending_approval', subject: 'Fwd: Contract' })
    expect(inline.body.data.text).toContain('---------- Forwarded message ---------')
  })
})
