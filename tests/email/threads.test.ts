import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addThreadTagsRoute } from '../../functions/email/threads/add-thread-tags.ts'
import { assignThreadRoute } from '../../functions/email/threads/assign-thread.ts'
import { getThreadMetadataRoute } from '../../functions/email/threads/get-thread-metadata.ts'
import { listThreadMessagesRoute } from '../../functions/email/threads/list-thread-messages.ts'
import { listThreadsRoute } from '../../functions/email/threads/list-threads.ts'
import { removeThreadTagsRoute } from '../../functions/email/threads/remove-thread-tags.ts'
import { setThreadStatusRoute } from '../../functions/email/threads/set-thread-status.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { inboxOf, markVictimMail, seedDomain, seedInbox, seedThread, threadOf } from './mail.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
  await markVictimMail()
})
afterAll(() => api.close())

const own = (t: Tenant) => threadOf(t, 'agent')
const otherAgents = (t: Tenant) => threadOf(t, 'otherAgent')

describeSecurity(listThreadsRoute, { query: async (t) => `inbox_id=${(await inboxOf(t)).inboxId}` }, () => api)
describeSecurity(listThreadMessagesRoute, { params: own, otherAgentParams: otherAgents }, () => api)
describeSecurity(getThreadMetadataRoute, { params: own, otherAgentParams: otherAgents }, () => api)
describeSecurity(setThreadStatusRoute, { params: own, otherAgentParams: otherAgents, body: { status: 'closed' } }, () => api)
describeSecurity(addThreadTagsRoute, { params: own, otherAgentParams: otherAgents, body: { tags: ['vip'] } }, () => api)
describeSecurity(removeThreadTagsRoute, { params: own, otherAgentParams: otherAgents, body: { tags: ['vip'] } }, () => api)
describeSecurity(assignThreadRoute, { params: own, otherAgentParams: otherAgents, body: { assigned_to: 'agent-billing' } }, () => api)

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString()
const ids = (res: { body: { data: { thread_id: string }[] } }) => res.body.data.map((t) => t.thread_id)

describe('listing threads', () => {
  it('lists an inbox newest first with every field, and pages with next_cursor', async () => {
    const t = await createTenant()
    const key = await t.key()
    const inbox = await seedInbox(t)
    const first = await seedThread(t.org.id, inbox.id, 'First', [{ text: 'one', at: at(1) }])
    const second = await seedThread(t.org.id, inbox.id, 'Second', [
      { text: 'two', at: at(2) },
      {
        direction: 'outbound',
        text: 'Thanks, we are on it.',
        at: at(5),
        attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'a' }],
      },
    ])
    const third = await seedThread(t.org.id, inbox.id, 'Third', [{ text: 'three', at: at(3) }])
    await seedThread(t.org.id, (await seedInbox(t)).id, 'Elsewhere', [{ text: 'x', at: at(9) }])

    const page = await api.call('GET', `/threads?inbox_id=${inbox.id}&limit=2`, { key })
    expect(page.status).toBe(200)
    expect(ids(page)).toEqual([second.id, third.id])
    expect(page.body.has_more).toBe(true)
    expect(page.body.data[0]).toEqual({
      thread_id: second.id,
      inbox_id: inbox.id,
      subject: 'Second',
      message_count: 2,
      last_message_at: at(5).replace('.000Z', '+00:00'),
      snippet: 'Thanks, we are on it.',
      last_direction: 'outbound',
      has_attachments: true,
      status: 'open',
      tags: [],
      assigned_to: null,
      created_at: at(2).replace('.000Z', '+00:00'),
    })
    const rest = await api.call('GET', `/threads?inbox_id=${inbox.id}&limit=2&cursor=${page.body.next_cursor}`, { key })
    expect(ids(rest)).toEqual([first.id])
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null })

    const oldest = await api.call('GET', `/threads?inbox_id=${inbox.id}&order=asc`, { key })
    expect(ids(oldest)).toEqual([first.id, third.id, second.id])
    const oldestPaged = await api.call('GET', `/threads?inbox_id=${inbox.id}&order=asc&limit=1`, { key })
    const next = await api.call('GET', `/threads?inbox_id=${inbox.id}&order=asc&limit=1&cursor=${oldestPaged.body.next_cursor}`, { key })
    expect(ids(next)).toEqual([third.id])
  })

  it("lists every inbox on a domain with domain_id, and nothing of another domain's", async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['threads:read'] })
    const domain = await seedDomain(t)
    const a = await seedThread(t.org.id, (await seedInbox(t, { domain })).id, 'A', [{ text: 'a', at: at(1) }])
    const b = await seedThread(t.org.id, (await seedInbox(t, { domain })).id, 'B', [{ text: 'b', at: at(2) }])
    await seedThread(t.org.id, (await seedInbox(t, { domain: await seedDomain(t) })).id, 'C', [{ text: 'c', at: at(3) }])
    await seedThread(t.org.id, (await seedInbox(t)).id, 'D', [{ text: 'd', at: at(4) }])
    expect(ids(await api.call('GET', `/threads?domain_id=${domain.id}`, { key }))).toEqual([b.id, a.id])
  })

  it('requires inbox_id or domain_id, and rejects bad order, limit and cursor with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    const missing = await api.call('GET', '/threads', { key })
    expect(missing.status).toBe(400)
    expect(missing.body.error).toEqual({
      code: 'validation_failed',
      message: 'Invalid request: Give inbox_id or domain_id.',
      fields: [
        { field: 'inbox_id', message: 'Give inbox_id or domain_id.' },
        { field: 'domain_id', message: 'Give inbox_id or domain_id.' },
      ],
    })
    const inbox = await seedInbox(t)
    for (const q of ['order=sideways', 'limit=0', 'limit=101', 'cursor=abc', 'inbox_id=x']) {
      const res = await api.call('GET', `/threads?inbox_id=${inbox.id}&${q}`, { key })
      expect(res.status, q).toBe(400)
      expect(res.body.error.code, q).toBe('validation_failed')
    }
  })

  it("shows an agent key its own inboxes' threads only, and another organisation's key nothing", async () => {
    const t = await createTenant()
    const mine = await seedInbox(t, { agent: 'agent' })
    const theirs = await seedInbox(t, { agent: 'otherAgent' })
    const own = await seedThread(t.org.id, mine.id, 'Mine', [{ text: 'm', at: at(1) }])
    const other = await seedThread(t.org.id, theirs.id, 'Theirs', [{ text: 't', at: at(2) }])
    // Holding only the scope the route needs: no inboxes:read.
    const agentKey = await t.key({ agent: 'agent', scopes: ['threads:read'] })
    expect(ids(await api.call('GET', `/threads?inbox_id=${mine.id}`, { key: agentKey }))).toEqual([own.id])
    expect(ids(await api.call('GET', `/threads?inbox_id=${theirs.id}`, { key: agentKey }))).toEqual([])
    expect((await api.call('GET', `/threads/${other.id}/metadata`, { key: agentKey })).status).toBe(404)
    expect((await api.call('GET', `/threads/${own.id}/messages`, { key: agentKey })).body.data).toHaveLength(1)
    expect((await api.call('GET', `/threads/${other.id}/messages`, { key: agentKey })).status).toBe(404)

    const stranger = await (await createTenant()).key()
    expect(ids(await api.call('GET', `/threads?inbox_id=${mine.id}`, { key: stranger }))).toEqual([])
    expect((await api.call('GET', `/threads/${own.id}/messages`, { key: stranger })).status).toBe(404)
    expect((await api.call('PUT', `/threads/${own.id}/status`, { key: stranger, body: { status: 'closed' } })).status).toBe(404)
    expect((await api.call('GET', `/threads/${own.id}/metadata`, { key: await t.key() })).body.data.status).toBe('open')
  })
})

describe("a thread's messages", () => {
  it('lists them oldest first with participants, content, attachments and metadata', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['threads:read'] })
    const inbox = await seedInbox(t)
    const thread = await seedThread(t.org.id, inbox.id, 'Invoice #1042', [
      {
        from: 'alice@example.com',
        to: [inbox.address],
        cc: ['bob@example.com'],
        replyTo: ['billing@example.com'],
        text: 'Where is my invoice?\n\n> old quote',
        html: '<p>Where is my invoice?</p>',
        extracted: 'Where is my invoice?',
        at: at(1),
        attachments: [{ filename: 'order.pdf', contentType: 'application/pdf', content: 'pdf bytes' }],
      },
      { direction: 'outbound', from: inbox.address, to: ['alice@example.com'], bcc: ['audit@example.com'], text: 'Attached.', at: at(2) },
    ])
    const res = await api.call('GET', `/threads/${thread.id}/messages`, { key })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(res.body.data).toHaveLength(2)
    const [question, answer] = res.body.data
    expect(question).toEqual({
      message_id: thread.messageIds[0],
      thread_id: thread.id,
      inbox_id: inbox.id,
      direction: 'inbound',
      participants: [
        { role: 'from', identity: 'alice@example.com' },
        { role: 'to', identity: inbox.address },
        { role: 'cc', identity: 'bob@example.com' },
        { role: 'reply_to', identity: 'billing@example.com' },
      ],
      content: 'Where is my invoice?\n\n> old quote',
      content_html: '<p>Where is my invoice?</p>',
      extracted_text: 'Where is my invoice?',
      extracted_data: null,
      attachments: [{ id: thread.attachmentIds[0], filename: 'order.pdf', content_type: 'application/pdf', size: 9 }],
      created_at: at(1).replace('.000Z', '+00:00'),
      metadata: {
        subject: 'Invoice #1042',
        message_id_header: expect.stringMatching(/@mail\.example\.com$/),
        in_reply_to: null,
        auth: null,
        spam: null,
        labels: [],
        is_auto_reply: false,
        status: 'received',
      },
    })
    expect(answer).toMatchObject({
      message_id: thread.messageIds[1],
      direction: 'outbound',
      participants: [
        { role: 'from', identity: inbox.address },
        { role: 'to', identity: 'alice@example.com' },
        { role: 'bcc', identity: 'audit@example.com' },
      ],
      content: 'Attached.',
      content_html: null,
      attachments: [],
      metadata: { status: 'sent' },
    })
  })

  it('pages them, newest first when asked', async () => {
    const t = await createTenant()
    const key = await t.key()
    const inbox = await seedInbox(t)
    const thread = await seedThread(
      t.org.id,
      inbox.id,
      'Long',
      [1, 2, 3].map((n) => ({ text: `m${n}`, at: at(n) })),
    )
    const first = await api.call('GET', `/threads/${thread.id}/messages?limit=2`, { key })
    expect(first.body.data.map((m: { content: string }) => m.content)).toEqual(['m1', 'm2'])
    const rest = await api.call('GET', `/threads/${thread.id}/messages?limit=2&cursor=${first.body.next_cursor}`, { key })
    expect(rest.body.data.map((m: { content: string }) => m.content)).toEqual(['m3'])
    expect(rest.body.has_more).toBe(false)
    const newest = await api.call('GET', `/threads/${thread.id}/messages?order=desc&limit=2`, { key })
    expect(newest.body.data.map((m: { content: string }) => m.content)).toEqual(['m3', 'm2'])
    const older = await api.call('GET', `/threads/${thread.id}/messages?order=desc&limit=2&cursor=${newest.body.next_cursor}`, { key })
    expect(older.body.data.map((m: { content: string }) => m.content)).toEqual(['m1'])
  })

  it('answers 404 for an unknown thread and 400 for a malformed id', async () => {
    const t = await createTenant()
    const key = await t.key()
    const unknown = await api.call('GET', `/threads/${crypto.randomUUID()}/messages`, { key })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toEqual({ code: 'not_found', message: 'Thread not found.' })
    expect((await api.call('GET', '/threads/nope/messages', { key })).status).toBe(400)
  })
})

describe('triage', () => {
  it('reads and sets the status', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await threadOf(t)
    expect((await api.call('GET', `/threads/${id}/metadata`, { key })).body.data).toEqual({
      thread_id: id,
      tags: [],
      status: 'open',
      assigned_to: null,
    })
    for (const status of ['needs_reply', 'waiting', 'closed', 'open']) {
      const res = await api.call('PUT', `/threads/${id}/status`, { key, body: { status } })
      expect(res.status).toBe(200)
      expect(res.body.data).toEqual({ thread_id: id, tags: [], status, assigned_to: null })
    }
    const bad = await api.call('PUT', `/threads/${id}/status`, { key, body: { status: 'snoozed' } })
    expect(bad.status).toBe(400)
    expect(bad.body.error.fields[0].field).toBe('status')
    expect((await api.call('PUT', `/threads/${id}/status`, { key, body: { status: 'closed', extra: 1 } })).status).toBe(400)
  })

  it('adds tags without touching those it has, and removes only those named, both idempotently', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await threadOf(t)
    const tags = async (method: 'POST' | 'DELETE', list: string[]) =>
      (await api.call(method, `/threads/${id}/tags`, { key, body: { tags: list } })).body.data.tags
    expect(await tags('POST', ['urgent', 'vip'])).toEqual(['urgent', 'vip'])
    expect(await tags('POST', ['vip', 'sales-lead', 'sales-lead', ' follow-up '])).toEqual(['urgent', 'vip', 'sales-lead', 'follow-up'])
    expect(await tags('POST', ['vip'])).toEqual(['urgent', 'vip', 'sales-lead', 'follow-up'])
    expect(await tags('DELETE', ['urgent', 'never-there'])).toEqual(['vip', 'sales-lead', 'follow-up'])
    expect(await tags('DELETE', ['urgent'])).toEqual(['vip', 'sales-lead', 'follow-up'])
    expect((await api.call('GET', `/threads/${id}/metadata`, { key })).body.data.tags).toEqual(['vip', 'sales-lead', 'follow-up'])
  })

  it('validates tags: 1 to 50 characters, at least one per request, at most 50 per thread', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await threadOf(t)
    for (const body of [{ tags: [] }, { tags: [''] }, { tags: ['  '] }, { tags: ['x'.repeat(51)] }, { tags: 'vip' }, {}]) {
      const res = await api.call('POST', `/threads/${id}/tags`, { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const fortyNine = Array.from({ length: 49 }, (_, i) => `t${i}`)
    expect((await api.call('POST', `/threads/${id}/tags`, { key, body: { tags: fortyNine } })).status).toBe(200)
    const tooMany = await api.call('POST', `/threads/${id}/tags`, { key, body: { tags: ['a', 'b'] } })
    expect(tooMany.status).toBe(400)
    expect(tooMany.body.error).toEqual({
      code: 'validation_failed',
      message: 'Invalid request: tags: A thread holds at most 50 tags; remove some first.',
      fields: [{ field: 'tags', message: 'A thread holds at most 50 tags; remove some first.' }],
    })
    const fiftieth = await api.call('POST', `/threads/${id}/tags`, { key, body: { tags: ['t0', 'x'.repeat(50)] } })
    expect(fiftieth.body.data.tags).toHaveLength(50)
    expect((await api.call('POST', `/threads/${crypto.randomUUID()}/tags`, { key, body: { tags: ['a'] } })).status).toBe(404)
  })

  it('assigns and unassigns', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await threadOf(t)
    const assigned = await api.call('PUT', `/threads/${id}/assign`, { key, body: { assigned_to: 'agent-billing' } })
    expect(assigned.body.data).toEqual({ thread_id: id, tags: [], status: 'open', assigned_to: 'agent-billing' })
    const unassigned = await api.call('PUT', `/threads/${id}/assign`, { key, body: { assigned_to: null } })
    expect(unassigned.body.data.assigned_to).toBeNull()
    for (const body of [{}, { assigned_to: '' }, { assigned_to: 'x'.repeat(201) }, { assigned_to: 7 }]) {
      expect((await api.call('PUT', `/threads/${id}/assign`, { key, body })).status, JSON.stringify(body)).toBe(400)
    }
  })
})
