import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteConversationRoute } from '../../functions/conversations/delete-conversation.ts'
import { getConversationRoute } from '../../functions/conversations/get-conversation.ts'
import { listConversationsRoute } from '../../functions/conversations/list-conversations.ts'
import { listMessagesRoute } from '../../functions/conversations/list-messages.ts'
import { updateConversationRoute } from '../../functions/conversations/update-conversation.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  delete process.env.LLM_BASE_URL
  api = await startApi()
})
afterAll(() => api.close())

async function converse(
  t: Tenant,
  agent: 'agent' | 'otherAgent' = 'agent',
  message = 'Hello',
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await api.call('POST', `/chat/${t[agent].id}`, { key: await t.key(), body: { message, ...extra } })
  return res.body.data.conversation_id
}
const conversationOf = (agent: 'agent' | 'otherAgent') => async (t: Tenant) => ({ id: await converse(t, agent) })

describeSecurity(listConversationsRoute, {}, () => api)
describeSecurity(getConversationRoute, { params: conversationOf('agent'), otherAgentParams: conversationOf('otherAgent') }, () => api)
describeSecurity(
  updateConversationRoute,
  { params: conversationOf('agent'), body: { title: 'x' }, otherAgentParams: conversationOf('otherAgent') },
  () => api,
)
describeSecurity(deleteConversationRoute, { params: conversationOf('agent'), otherAgentParams: conversationOf('otherAgent') }, () => api)
describeSecurity(listMessagesRoute, { params: conversationOf('agent'), otherAgentParams: conversationOf('otherAgent') }, () => api)

describe('conversations', () => {
  it('lists newest first with filters, and pages with next_cursor', async () => {
    const t = await createTenant()
    const key = await t.key()
    const ids = [
      await converse(t, 'agent', 'one', { user: 'u1' }),
      await converse(t, 'agent', 'two', { user: 'u2' }),
      await converse(t, 'otherAgent', 'three'),
    ]
    const all = await api.call('GET', '/conversations?limit=2', { key })
    expect(all.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]])
    expect(all.body.has_more).toBe(true)
    expect(all.body.data[0]).not.toHaveProperty('position')
    const rest = await api.call('GET', `/conversations?limit=2&cursor=${all.body.next_cursor}`, { key })
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(rest.body.data.map((c: { id: string }) => c.id)).toEqual([ids[0]])
    const byAgent = await api.call('GET', `/conversations?agent_id=${t.agent.id}`, { key })
    expect(byAgent.body.data.map((c: { id: string }) => c.id)).toEqual([ids[1], ids[0]])
    const byUser = await api.call('GET', '/conversations?user=u1', { key })
    expect(byUser.body.data.map((c: { id: string }) => c.id)).toEqual([ids[0]])
    const later = await api.call('GET', `/conversations?created_after=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, {
      key,
    })
    expect(later.body.data).toEqual([])
    const agentKey = await api.call('GET', '/conversations', { key: await t.key({ agent: 'otherAgent' }) })
    expect(agentKey.body.data.map((c: { id: string }) => c.id)).toEqual([ids[2]])
  })

  it('updates the title, status and metadata, filters by status, and deletes with the messages', async () => {
    const t = await createTenant()
    const key = await t.key()
    const id = await converse(t)
    const res = await api.call('PATCH', `/conversations/${id}`, {
      key,
      body: { title: 'Refunds', status: 'archived', metadata: { ticket: 7 } },
    })
    expect(res.body.data).toMatchObject({ title: 'Refunds', status: 'archived', metadata: { ticket: 7 } })
    expect((await api.call('GET', '/conversations?status=archived', { key })).body.data.map((c: { id: string }) => c.id)).toEqual([id])
    expect((await api.call('DELETE', `/conversations/${id}`, { key })).status).toBe(200)
    expect((await api.call('GET', `/conversations/${id}/messages`, { key })).status).toBe(404)
  })

  it('pages through messages oldest or newest first', async () => {
    const t = await createTenant()
    const key = await t.key()
    const id = await converse(t, 'agent', 'first')
    await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'second', conversation_id: id } })
    const oldest = await api.call('GET', `/conversations/${id}/messages?limit=3`, { key })
    expect(oldest.body.data.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user'])
    expect(oldest.body.data[0]).toMatchObject({ content: 'first', status: 'complete', usage: null })
    expect(oldest.body.data[1]).toMatchObject({
      role: 'assistant',
      model: 'offline',
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    })
    const next = await api.call('GET', `/conversations/${id}/messages?limit=3&cursor=${oldest.body.next_cursor}`, { key })
    expect(next.body.data.map((m: { role: string }) => m.role)).toEqual(['assistant'])
    expect(next.body.has_more).toBe(false)
    const newest = await api.call('GET', `/conversations/${id}/messages?order=newest&limit=1`, { key })
    expect(newest.body.data[0].role).toBe('assistant')
    expect(newest.body.data[0].content).toMatch(/You said: "second"/)
  })

  it('rejects bad filters and cursors with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const q of ['status=lost', 'limit=0', 'cursor=1', 'agent_id=x', 'created_after=yesterday']) {
      const res = await api.call('GET', `/conversations?${q}`, { key })
      expect(res.status, q).toBe(400)
    }
    const id = await converse(t)
    expect((await api.call('GET', `/conversations/${id}/messages?order=sideways`, { key })).status).toBe(400)
  })
})
