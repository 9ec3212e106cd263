import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgentRoute } from '../../functions/agents/create-agent.ts'
import { deleteAgentRoute } from '../../functions/agents/delete-agent.ts'
import { getAgentRoute } from '../../functions/agents/get-agent.ts'
import { listAgentsRoute } from '../../functions/agents/list-agents.ts'
import { updateAgentRoute } from '../../functions/agents/update-agent.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createAgent } from '../../scripts/lib/admin.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const agentOf = (agent: 'agent' | 'otherAgent') => (t: Tenant) => ({ id: t[agent].id })
const freshAgent = async (t: Tenant) => ({ id: (await createAgent(serviceSql(), { orgId: t.org.id, name: 'Disposable' })).id })

describeSecurity(listAgentsRoute, {}, () => api)
describeSecurity(createAgentRoute, { body: { name: 'Support' } }, () => api)
describeSecurity(getAgentRoute, { params: agentOf('agent'), otherAgentParams: agentOf('otherAgent') }, () => api)
describeSecurity(
  updateAgentRoute,
  { params: agentOf('agent'), body: { description: 'x' }, otherAgentParams: agentOf('otherAgent') },
  () => api,
)
describeSecurity(deleteAgentRoute, { params: freshAgent, otherAgentParams: agentOf('otherAgent') }, () => api)

describe('agents', () => {
  it('creates an agent with its instructions and model, and lists it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', '/agents', {
      key,
      body: {
        name: 'Support',
        instructions: 'Answer billing questions.',
        model: 'gpt-4o-mini',
        temperature: 0.3,
        max_output_tokens: 500,
        metadata: { team: 'cx' },
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({
      name: 'Support',
      instructions: 'Answer billing questions.',
      model: 'gpt-4o-mini',
      temperature: 0.3,
      max_output_tokens: 500,
      status: 'active',
      metadata: { team: 'cx' },
      description: null,
    })
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
    for (const [body, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'x', temperature: 3 }, 'temperature'],
      [{ name: 'x', status: 'asleep' }, 'status'],
      [{ name: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
      [{ name: 'x', colour: 'red' }, 'colour'],
    ] as const) {
      const res = await api.call('POST', '/agents', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.message).toContain(field)
    }
  })

  it('refuses a model this server does not offer with 400 naming the ones it does', async () => {
    const t = await createTenant()
    const key = await t.key()
    const created = await api.call('POST', '/agents', { key, body: { name: 'Support', model: 'gpt-9-ultra' } })
    expect(created.status).toBe(400)
    expect(created.body.error.code).toBe('validation_failed')
    expect(created.body.error.message).toBe(
      'Invalid request: model: "gpt-9-ultra" is not offered on this server; choose one of ' +
        'gpt-4.1, gpt-4.1-mini, gpt-4.1-nano, gpt-4o, gpt-4o-mini, o4-mini, offline, or null for the default model.',
    )
    expect(created.body.error.fields).toEqual([{ field: 'model', message: expect.stringContaining('"gpt-9-ultra" is not offered') }])
    const updated = await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: { model: 'gpt-9-ultra' } })
    expect(updated.status).toBe(400)
    expect(updated.body.error.message).toMatch(/model: "gpt-9-ultra" is not offered/)
    expect((await api.call('GET', `/agents/${t.agent.id}`, { key })).body.data.model).toBeNull()
    const priced = await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: { model: 'o4-mini' } })
    expect(priced.body.data.model).toBe('o4-mini')
    const reset = await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: { model: null } })
    expect(reset.body.data.model).toBeNull()
  })

  it('answers a PATCH that changes nothing with the agent as it was', async () => {
    const t = await createTenant()
    const key = await t.key()
    const before = (await api.call('GET', `/agents/${t.agent.id}`, { key })).body.data
    const res = await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: {} })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual(before)
  })

  it('offers exactly the models in AGENT_MODELS when the operator sets it', async () => {
    const t = await createTenant()
    const key = await t.key()
    process.env.AGENT_MODELS = ' llama3.2 , gpt-4o,'
    try {
      const local = await api.call('POST', '/agents', { key, body: { name: 'Local', model: 'llama3.2' } })
      expect(local.status).toBe(201)
      expect(local.body.data.model).toBe('llama3.2')
      const unlisted = await api.call('POST', '/agents', { key, body: { name: 'Cheap', model: 'gpt-4o-mini' } })
      expect(unlisted.status).toBe(400)
      expect(unlisted.body.error.message).toBe(
        'Invalid request: model: "gpt-4o-mini" is not offered on this server; choose one of llama3.2, gpt-4o, ' +
          'or null for the default model.',
      )
    } finally {
      delete process.env.AGENT_MODELS
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
