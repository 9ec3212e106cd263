import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createAgent } from '../../scripts/lib/admin.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const agentPath = (agent: 'agent' | 'otherAgent') => (t: Tenant) => `/agents/${t[agent].id}`

describeSecurity('GET /agents', { method: 'GET', path: () => '/agents', scope: 'agents:read', okStatus: 200 }, () => api)
describeSecurity('POST /agents', { method: 'POST', path: () => '/agents', body: { name: 'Support' }, scope: 'agents:write', okStatus: 201 }, () => api)
describeSecurity('GET /agents/{id}', { method: 'GET', path: agentPath('agent'), scope: 'agents:read', okStatus: 200, addressesResource: true, otherAgentPath: agentPath('otherAgent') }, () => api)
describeSecurity('PATCH /agents/{id}', { method: 'PATCH', path: agentPath('agent'), body: { description: 'x' }, scope: 'agents:write', okStatus: 200, addressesResource: true, otherAgentPath: agentPath('otherAgent') }, () => api)
const freshAgentPath = async (t: Tenant) => `/agents/${(await createAgent(serviceSql(), { orgId: t.org.id, name: 'Disposable' })).id}`
describeSecurity('DELETE /agents/{id}', { method: 'DELETE', path: freshAgentPath, scope: 'agents:write', okStatus: 200, addressesResource: true, otherAgentPath: agentPath('otherAgent') }, () => api)

describe('agents', () => {
  it('creates an agent with its instructions and model, and lists it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', '/agents', {
      key,
      body: { name: 'Support', instructions: 'Answer billing questions.', model: 'gpt-4o-mini', temperature: 0.3, max_output_tokens: 500, metadata: { team: 'cx' } },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({ name: 'Support', instructions: 'Answer billing questions.', model: 'gpt-4o-mini', temperature: 0.3, max_output_tokens: 500, status: 'active', metadata: { team: 'cx' }, description: null })
    const listed = await api.call('GET', '/agents', { key })
    expect(listed.body.data.map((a: { name: string }) => a.name)).toEqual(['Agent A', 'Agent B', 'Support'])
  })

  it('shows an agent key its own agent only, and lets it change but not create or delete agents', async () => {
    const t = await createTenant()
    const agentKey = await t.key({ agent: 'agent' })
    const listed = await api.call('GET', '/agents', { key: agentKey })
    expect(listed.body.data.map((a: { id: string }) => a.id)).toEqual([t.agent.id])
    const renamed = await api.call('PATCH', `/agents/${t.agent.id}`, { key: agentKey, body: { name: 'Renamed', status: 'paused' } })
    expect(renamed.body.data).toMatchObject({ name: 'Renamed', status: 'paused' })
    const created = await api.call('POST', '/agents', { key: agentKey, body: { name: 'Another' } })
    expect(created.status).toBe(403)
    expect(created.body.error.code).toBe('insufficient_scope')
    expect((await api.call('DELETE', `/agents/${t.agent.id}`, { key: agentKey })).status).toBe(404)
  })

  it('refuses bad fields with 400 naming them', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const [body, field] of [[{ name: '' }, 'name'], [{ name: 'x', temperature: 3 }, 'temperature'], [{ name: 'x', status: 'asleep' }, 'status'], [{ name: 'x', max_output_tokens: 0 }, 'max_output_tokens'], [{ name: 'x', colour: 'red' }, 'colour']] as const) {
      const res = await api.call('POST', '/agents', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.message).toContain(field)
    }
  })

  it('deletes an agent with its conversations', async () => {
    const t = await createTenant()
    const key = await t.key()
    const chat = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    const res = await api.call('DELETE', `/agents/${t.agent.id}`, { key })
    expect(res.status).toBe(200)
    expect((await api.call('GET', `/agents/${t.agent.id}`, { key })).status).toBe(404)
    expect((await api.call('GET', `/conversations/${chat.body.data.conversation_id}`, { key })).status).toBe(404)
  })
})
