import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listOutboxRoute } from '../../../functions/email/outbound/list-outbox.ts'
import { sendEmailRoute } from '../../../functions/email/outbound/send-message.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { describeSecurity } from '../../harness/security.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { headersOf, inbox, jobsFor, receivedThread, sendingPlan, storedMessage, upload } from './arrange.ts'

// No job runner here: what a send leaves queued is what these tests read. A database of its own, so that no
// other file's runner delivers the queued messages meanwhile.
let drop: () => Promise<void>
let api: TestApi
let t: Tenant
let key: string
let box: { id: string; address: string }

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  t = await createTenant()
  key = await t.key({ scopes: ['messages:write'] })
  box = await inbox(t, { name: 'Support' })
})

afterAll(async () => {
  await api?.close()
  await drop?.()
})

const send = (body: Record<string, unknown>, options: { key?: string; headers?: Record<string, string> } = {}) =>
  api.call('POST', '/messages/send', { key: options.key ?? key, body, headers: options.headers })

const messagesOf = async (inboxId: string) =>
  (await serviceSql()<{ n: number }[]>`select count(*)::int as n from agentry.email_messages where inbox_id = ${inboxId}`)[0].n

describe('POST /messages/send', () => {
  it('queues the message with its raw MIME and one delivery job, and answers 202 with its recipients', async () => {
    const res = await send({
      to: ['Alice <Alice@Example.com>', 'bob@example.com'],
      cc: 'manager@example.com',
      bcc: 'audit@example.org',
      reply_to: 'help@example.com',
      subject: 'Invoice #1042',
      text: 'Please find your invoice attached.',
      html: '<p>Please find your invoice attached.</p>',
      inbox_id: box.id,
    })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    const data = res.body.data
    expect(data).toEqual({
      message_id: expect.any(String),
      thread_id: expect.any(String),
      status: 'queued',
      accepted: ['alice@example.com', 'bob@example.com', 'manager@example.com', 'audit@example.org'],
      rejected: [],
      suppressed: [],
    })
    const stored = await storedMessage(data.message_id)
    expect(stored).toMatchObject({ direction: 'outbound', status: 'queued', inbox_id: box.id, thread_id: data.thread_id })
    expect(stored.message_id_header).toMatch(/^[0-9a-f-]{36}@agents\.localhost$/)
    expect(stored.bcc_addresses).toEqual(['audit@example.org'])
    const headers = headersOf(stored.raw!)
    expect(headers).toContain(`Message-ID: <${stored.message_id_header}>`)
    expect(headers).toContain(`From: Support <${box.address}>`)
    expect(headers).toContain('To: Alice <alice@example.com>, bob@example.com')
    expect(headers).toContain('Cc: manager@example.com')
    expect(headers).toContain('Reply-To: help@example.com')
    expect(headers).toContain('Subject: Invoice #1042')
    expect(headers).not.toMatch(/^Bcc:/im)
    expect(headers).not.toContain('audit@example.org')
    expect(await jobsFor(data.message_id)).toBe(1)
    const [thread] =
      await serviceSql()`select subject, message_count, last_direction from agentry.email_threads where id = ${data.thread_id}`
    expect(thread).toEqual({ subject: 'Invoice #1042', message_count: 1, last_direction: 'outbound' })
  })

  it('reports the plan sending limits in X-Email-Limit-* headers', async () => {
    const other = await createTenant()
    const from = await inbox(other)
    const key = await other.key()
    const sentAt = Date.now() / 1000
    const res = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: from.id }, { key })
    expect(res.status).toBe(202)
    expect(res.headers.get('x-email-limit-hour')).toBe('100')
    expect(res.headers.get('x-email-limit-hour-remaining')).toBe('99')
    expect(res.headers.get('x-email-limit-day')).toBe('1000')
    expect(res.headers.get('x-email-limit-day-remaining')).toBe('999')
    const hourReset = Number(res.headers.get('x-email-limit-hour-reset'))
    expect(hourReset % 3600).toBe(0)
    // The end of the hour the send was counted in, which may have passed by the time the answer is read.
    expect(hourReset).toBeGreaterThan(sentAt)
    expect(hourReset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600)
  })

  it('sends from the inbox whose address is `from`, keeping its display name, and from a domain’s first inbox', async () => {
    const byFrom = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', from: `Ada Agent <${box.address.toUpperCase()}>` })
    expect(byFrom.status, JSON.stringify(byFrom.body)).toBe(202)
    const stored = await storedMessage(byFrom.body.data.message_id)
    expect(stored.inbox_id).toBe(box.id)
    expect(headersOf(stored.raw!)).toContain(`From: Ada Agent <${box.address}>`)

    const stranger = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', from: 'nobody@agents.localhost' })
    expect(stranger.status).toBe(400)
    expect(stranger.body.error.message).toMatch(/^from: /)
  })

  it('refuses a send that names no sending inbox, or no text or html', async () => {
    const none = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi' })
    expect(none.status).toBe(400)
    expect(none.body.error.message).toBe('Say which inbox sends: inbox_id, from or domain_id.')
    const empty = await send({ to: 'a@example.com', subject: 'Hi', inbox_id: box.id })
    expect(empty.status).toBe(400)
    expect(empty.body.error.fields).toEqual([{ field: 'text', message: 'text or html is required' }])
  })

  it.each([
    ['subject', { subject: 'Hello\r\nBcc: victim@example.com' }, 'subject'],
    ['to', { to: 'a@example.com\r\nBcc: victim@example.com' }, 'to'],
    ['a listed cc', { cc: ['ok@example.com', 'b@example.com\nX-Evil: 1'] }, 'cc.1'],
    ['from', { from: 'Support\n <x@agents.localhost>' }, 'from'],
    ['reply_to', { reply_to: 'r@example.com\rX: y' }, 'reply_to'],
  ])('refuses a line break in %s (header injection) with 400 naming the field, storing nothing', async (_, fields, field) => {
    const before = await messagesOf(box.id)
    const res = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: box.id, ...fields })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.fields).toContainEqual({ field, message: 'must not contain a line break (header injection)' })
    expect(await messagesOf(box.id)).toBe(before)
  })

  it('refuses what is no address', async () => {
    const res = await send({ to: ['a@example.com', 'not an address'], subject: 'Hi', text: 'Hi', inbox_id: box.id })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([{ field: 'to.1', message: 'must be an email address, or "Name <address>"' }])
  })

  it('replies in a thread: In-Reply-To is its last message, References its chain, and the subject gets one "Re: "', async () => {
    const threadId = await receivedThread(t, box.id, {
      subject: 'Question about refunds',
      messageId: 'second@remote.example',
      references: ['first@remote.example'],
      from: 'customer@remote.example',
    })
    const res = await send({ to: 'customer@remote.example', subject: 'RE: Re: Question about refunds', text: 'Done.', thread_id: threadId })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data.thread_id).toBe(threadId)
    const stored = await storedMessage(res.body.data.message_id)
    expect(stored).toMatchObject({
      inbox_id: box.id,
      subject: 'Re: Question about refunds',
      in_reply_to: 'second@remote.example',
      references: ['first@remote.example', 'second@remote.example'],
    })
    const headers = headersOf(stored.raw!)
    expect(headers).toContain('In-Reply-To: <second@remote.example>')
    expect(headers).toContain('References: <first@remote.example> <second@remote.example>')
    expect(headers).toContain('Subject: Re: Question about refunds')
    const [thread] = await serviceSql()`select message_count, last_direction from agentry.email_threads where id = ${threadId}`
    expect(thread).toEqual({ message_count: 2, last_direction: 'outbound' })

    const plain = await send({ to: 'customer@remote.example', subject: 'Question about refunds', text: 'More.', thread_id: threadId })
    const second = await storedMessage(plain.body.data.message_id)
    expect(second.subject).toBe('Re: Question about refunds')
    expect(second.in_reply_to).toBe(stored.message_id_header)
    expect(second.references).toEqual(['first@remote.example', 'second@remote.example', stored.message_id_header])
  })

  it('keeps the first and the latest 19 references of a long thread', async () => {
    const chain = Array.from({ length: 30 }, (_, i) => `m${i}@remote.example`)
    const threadId = await receivedThread(t, box.id, {
      subject: 'Long',
      messageId: 'last@remote.example',
      references: chain,
      from: 'x@remote.example',
    })
    const res = await send({ to: 'x@remote.example', subject: 'Long', text: 'Yes.', thread_id: threadId })
    const stored = await storedMessage(res.body.data.message_id)
    expect(stored.references).toEqual(['m0@remote.example', ...chain.slice(-18), 'last@remote.example'])
  })

  it('answers 404 for a thread or an inbox the key cannot reach, and 400 for a thread of another inbox', async () => {
    const missing = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', thread_id: crypto.randomUUID() })
    expect(missing.status).toBe(404)
    const otherBox = await inbox(t)
    const threadId = await receivedThread(t, otherBox.id, {
      subject: 'S',
      messageId: `${crypto.randomUUID()}@r.example`,
      references: [],
      from: 'x@r.example',
    })
    const mismatch = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', thread_id: threadId, inbox_id: box.id })
    expect(mismatch.status).toBe(400)
    expect(mismatch.body.error.message).toMatch(/^thread_id: /)
  })

  it("lets an agent key send only from its own agent's inboxes", async () => {
    const agentBox = await inbox(t, { agent: 'agent' })
    const otherAgentBox = await inbox(t, { agent: 'otherAgent' })
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })
    const own = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: agentBox.id }, { key: agentKey })
    expect(own.status).toBe(202)
    for (const inbox_id of [otherAgentBox.id, box.id]) {
      const other = await send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id }, { key: agentKey })
      expect(other.status).toBe(404)
      expect(other.body.error).toEqual({ code: 'not_found', message: 'No such inbox.' })
    }
  })

  it('attaches uploaded attachments, and sends an upload again as a copy', async () => {
    const id = await upload(t, 'notes.txt', 'The notes.')
    const first = await send({ to: 'a@example.com', subject: 'Files', text: 'Attached.', inbox_id: box.id, attachments: [id] })
    expect(first.status, JSON.stringify(first.body)).toBe(202)
    const raw = Buffer.from((await storedMessage(first.body.data.message_id)).raw!).toString()
    expect(raw).toMatch(/Content-Disposition: attachment; filename=notes\.txt/)
    expect(raw).toContain(Buffer.from('The notes.').toString('base64'))
    const again = await send({ to: 'b@example.com', subject: 'Files', text: 'Again.', inbox_id: box.id, attachments: [id] })
    expect(again.status).toBe(202)
    const rows =
      await serviceSql()`select message_id from agentry.email_attachments where filename = 'notes.txt' and org_id = ${t.org.id} order by created_at`
    expect(rows.map((r) => r.message_id).sort()).toEqual([first.body.data.message_id, again.body.data.message_id].sort())

    const stranger = await createTenant()
    const theirs = await upload(stranger, 'secret.txt', 'Secret.')
    const refused = await send({ to: 'a@example.com', subject: 'Files', text: 'x', inbox_id: box.id, attachments: [theirs] })
    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toBe(`attachments: no uploaded attachment ${theirs}.`)
  })
})

describe('POST /messages/send with Idempotency-Key', () => {
  const body = () => ({ to: 'a@example.com', subject: 'Once', text: 'Only once.', inbox_id: box.id })

  it('answers a repeated send with the first answer, sending nothing more', async () => {
    const headers = { 'idempotency-key': `send-${crypto.randomUUID()}` }
    const first = await send(body(), { headers })
    const again = await send(body(), { headers })
    expect(first.status).toBe(202)
    expect(again.status).toBe(202)
    expect(again.body).toEqual(first.body)
    const [row] = await serviceSql()`select count(*)::int as n from agentry.email_messages where thread_id = ${first.body.data.thread_id}`
    expect(row.n).toBe(1)
    expect(await jobsFor(first.body.data.message_id)).toBe(1)
  })

  it('refuses the same key with another body with 409', async () => {
    const headers = { 'idempotency-key': `send-${crypto.randomUUID()}` }
    expect((await send(body(), { headers })).status).toBe(202)
    const other = await send({ ...body(), text: 'Something else.' }, { headers })
    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('conflict')
  })

  it('queues one message for concurrent sends with the same key', async () => {
    // A plan of its own lets six requests be in flight at once (the free plan allows fewer).
    const busy = await createTenant()
    await sendingPlan(busy, 1000, 10000)
    const busyKey = await busy.key()
    const from = await inbox(busy)
    const headers = { 'idempotency-key': `send-${crypto.randomUUID()}` }
    const subject = `Concurrent ${crypto.randomUUID()}`
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => send({ ...body(), inbox_id: from.id, subject }, { key: busyKey, headers })),
    )
    const statuses = answers.map((a) => a.status)
    expect(
      statuses.every((s) => s === 202 || s === 409),
      JSON.stringify(statuses),
    ).toBe(true)
    expect(statuses).toContain(202)
    const ids = new Set(answers.filter((a) => a.status === 202).map((a) => a.body.data.message_id))
    expect(ids.size).toBe(1)
    const rows = await serviceSql()`select id from agentry.email_messages where subject = ${subject}`
    expect(rows.map((r) => r.id)).toEqual([...ids])
    expect(await jobsFor([...ids][0])).toBe(1)
  })
})

describe('POST /messages/send past the plan sending limit', () => {
  it('refuses the send past the hourly limit with 429 and Retry-After, queuing nothing', async () => {
    const capped = await createTenant()
    await sendingPlan(capped, 2, 10)
    const cappedKey = await capped.key()
    const from = await inbox(capped)
    const one = () => send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: from.id }, { key: cappedKey })
    const answers = await Promise.all([one(), one(), one()])
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 429])
    const refused = answers.find((a) => a.status === 429)!
    expect(refused.body.error).toEqual({
      code: 'rate_limited',
      message: expect.stringMatching(/^The plan's sending limit of 2 emails an hour is reached; retry after \d+ s\.$/),
    })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(3600)
    expect(refused.headers.get('x-email-limit-hour-remaining')).toBe('0')
    expect(await messagesOf(from.id)).toBe(2)
  })

  it('refuses past the daily limit though the hour has room, and gives the hour its send back', async () => {
    const capped = await createTenant()
    await sendingPlan(capped, 5, 1)
    const cappedKey = await capped.key()
    const from = await inbox(capped)
    const one = () => send({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: from.id }, { key: cappedKey })
    expect((await one()).status).toBe(202)
    const refused = await one()
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toMatch(/limit of 1 emails a day/)
    expect(refused.headers.get('x-email-limit-hour-remaining')).toBe('4')
    expect(refused.headers.get('x-email-limit-day-remaining')).toBe('0')
    const [count] = await serviceSql()`select sent from agentry.email_send_counts where org_id = ${capped.org.id} and span = 'hour'`
    expect(count.sent).toBe(1)
  })
})

describeSecurity(
  sendEmailRoute,
  { body: async (owner: Tenant) => ({ to: 'a@example.com', subject: 'Hi', text: 'Hi', inbox_id: (await inbox(owner)).id }) },
  () => api,
)
describeSecurity(listOutboxRoute, {}, () => api)
