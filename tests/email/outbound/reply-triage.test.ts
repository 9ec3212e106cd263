import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { inbox, receivedThread } from './arrange.ts'

let api: TestApi
let t: Tenant
let key: string
let box: { id: string; address: string }

beforeAll(async () => {
  api = await startApi()
  t = await createTenant()
  key = await t.key({ scopes: ['messages:write', 'threads:read'] })
  box = await inbox(t)
})
afterAll(() => api?.close())

/** A thread holding one message from a customer, left in the triage status given. */
async function threadIn(status: string): Promise<string> {
  const id = await receivedThread(t, box.id, {
    subject: 'Where is my order?',
    messageId: `${crypto.randomUUID()}@remote.example`,
    references: [],
    from: 'customer@remote.example',
  })
  await serviceSql()`update agentry.email_threads set status = ${status} where id = ${id}`
  return id
}

const reply = (threadId: string) =>
  api.call('POST', '/messages/send', {
    key,
    body: { to: 'customer@remote.example', subject: 'Where is my order?', text: 'On its way.', thread_id: threadId },
  })

async function statusOf(threadId: string): Promise<string> {
  const res = await api.call('GET', `/threads/${threadId}/metadata`, { key })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.data.status
}

describe('a reply sent through POST /messages/send', () => {
  it('moves a thread that needed a reply to waiting', async () => {
    const thread = await threadIn('needs_reply')
    expect((await reply(thread)).status).toBe(202)
    expect(await statusOf(thread)).toBe('waiting')
  })

  it('moves an open thread to waiting', async () => {
    const thread = await threadIn('open')
    expect((await reply(thread)).status).toBe(202)
    expect(await statusOf(thread)).toBe('waiting')
  })

  it('leaves a closed thread closed, and a waiting one waiting', async () => {
    const closed = await threadIn('closed')
    const waiting = await threadIn('waiting')
    expect((await reply(closed)).status).toBe(202)
    expect((await reply(waiting)).status).toBe(202)
    expect(await statusOf(closed)).toBe('closed')
    expect(await statusOf(waiting)).toBe('waiting')
  })

  it('leaves the status as it was when the send is refused', async () => {
    const thread = await threadIn('needs_reply')
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { to: 'customer@remote.example', subject: 'x', text: 'x', thread_id: thread, attachments: [crypto.randomUUID()] },
    })
    expect(res.status).toBe(400)
    expect(await statusOf(thread)).toBe('needs_reply')
  })
})

describe('a new message sent through POST /messages/send', () => {
  it('starts its thread waiting for the other side', async () => {
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: 'someone@remote.example', subject: 'Hello', text: 'Hi there.' },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(await statusOf(res.body.data.thread_id)).toBe('waiting')
  })
})
