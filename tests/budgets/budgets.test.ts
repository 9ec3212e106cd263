// Budgets through the API, and what they do to chat: set, listed with what the period spent, changed and
// removed; a spent budget refuses the organisation's (or only the agent's) chats with budget_exceeded before
// anything is stored; and the 50/80/100 % thresholds are each raised once per budget and period.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { deleteBudgetRoute } from '../../functions/budgets/delete-budget.ts'
import { listBudgetsRoute } from '../../functions/budgets/list-budgets.ts'
import { putBudgetRoute } from '../../functions/budgets/put-budget.ts'
import { createAgent } from '../../scripts/lib/admin.ts'
import type { TestApi } from '../harness/api.ts'
import { type FakeLlm, parseEvents, startApiWithFakeModel } from '../harness/fake-llm.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createEndpoint } from '../harness/webhooks.ts'

let api: TestApi
let llm: FakeLlm
beforeAll(async () => {
  ;({ api, llm } = await startApiWithFakeModel())
})
afterAll(async () => {
  await api.close()
  await llm.close()
})
beforeEach(() => {
  llm.script = () => ({ reply: 'Hello from the fake model.', usage: { prompt_tokens: 1000, completion_tokens: 1000 } })
})

async function spend(t: Tenant, agentId: string | null, costUsd: number, at = new Date()) {
  await serviceSql()`insert into agentry.usage_records
      (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
    values (${t.org.id}, ${agentId}, 'fake', 'gpt-4o-mini', 10, 5, ${costUsd}, ${at})`
}

const today = () => new Date().toISOString().slice(0, 10)
const monthStart = () => `${today().slice(0, 7)}-01`

describe('PUT /budgets', () => {
  it("sets the organisation's budget (201), then changes its limit in place (200)", async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['budgets:write'] })
    await spend(t, t.agent.id, 2.5)
    const created = await api.call('PUT', '/budgets', { key, body: { period: 'month', limit_usd: 10 } })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.data).toMatchObject({
      agent_id: null,
      period: 'month',
      limit_usd: 10,
      period_start: monthStart(),
      spent_usd: 2.5,
      remaining_usd: 7.5,
    })
    const changed = await api.call('PUT', '/budgets', { key, body: { agent_id: null, period: 'month', limit_usd: 2 } })
    expect(changed.status).toBe(200)
    expect(changed.body.data).toMatchObject({ id: created.body.data.id, limit_usd: 2, spent_usd: 2.5, remaining_usd: 0 })
  })

  it("keeps an agent's budget apart from the organisation's and from the same agent's other period", async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['budgets:write'] })
    const bodies = [
      { period: 'day', limit_usd: 1 },
      { agent_id: t.agent.id, period: 'day', limit_usd: 0.25 },
      { agent_id: t.agent.id, period: 'month', limit_usd: 5 },
    ]
    for (const body of bodies) expect((await api.call('PUT', '/budgets', { key, body })).status).toBe(201)
    const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.budgets where org_id = ${t.org.id}`
    expect(n).toBe(3)
  })

  it("answers 404 for another organisation's agent, 403 to an agent key, and 400 for a limit of 0 or a week", async () => {
    const t = await createTenant()
    const other = await createTenant()
    const key = await t.key({ scopes: ['budgets:write'] })
    const foreign = await api.call('PUT', '/budgets', { key, body: { agent_id: other.agent.id, period: 'day', limit_usd: 1 } })
    expect(foreign.status).toBe(404)
    expect(foreign.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
    const agentKey = await t.key({ scopes: ['budgets:write'], agent: 'agent' })
    const own = await api.call('PUT', '/budgets', { key: agentKey, body: { agent_id: t.agent.id, period: 'day', limit_usd: 1 } })
    expect(own.status).toBe(403)
    for (const body of [
      { period: 'day', limit_usd: 0 },
      { period: 'week', limit_usd: 1 },
      { period: 'day', limit_usd: '1' },
      { period: 'day', limit_usd: 1, extra: true },
    ]) {
      const res = await api.call('PUT', '/budgets', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.budgets where org_id = ${t.org.id}`
    expect(n).toBe(0)
  })
})

describe('GET /budgets and DELETE /budgets/{id}', () => {
  it("lists each budget with its period's spending, and an agent key only its agent's", async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['budgets:write'] })
    await api.call('PUT', '/budgets', { key, body: { period: 'day', limit_usd: 3 } })
    await api.call('PUT', '/budgets', { key, body: { agent_id: t.agent.id, period: 'month', limit_usd: 2 } })
    await api.call('PUT', '/budgets', { key, body: { agent_id: t.otherAgent.id, period: 'month', limit_usd: 2 } })
    await spend(t, t.agent.id, 0.5)
    await spend(t, t.otherAgent.id, 2.25)
    // Yesterday's (or last month's) spending is not this period's.
    await spend(t, t.agent.id, 100, new Date(Date.now() - 40 * 86_400_000))
    await spend(t, null, 0.25)
    const res = await api.call('GET', '/budgets', { key: await t.key({ scopes: ['budgets:read'] }) })
    expect(res.status).toBe(200)
    expect(res.body.data.map((b: any) => [b.agent_id, b.period, b.spent_usd, b.remaining_usd])).toEqual([
      [null, 'day', 3, 0],
      ...[
        [t.agent.id, 'month', 0.5, 1.5],
        [t.otherAgent.id, 'month', 2.25, 0],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ])
    const agentView = await api.call('GET', '/budgets', { key: await t.key({ scopes: ['budgets:read'], agent: 'agent' }) })
    expect(agentView.body.data.map((b: any) => b.agent_id)).toEqual([t.agent.id])
  })

  it('deletes a budget once: the second time it is 404', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['budgets:write'] })
    const { body } = await api.call('PUT', '/budgets', { key, body: { period: 'day', limit_usd: 3 } })
    const deleted = await api.call('DELETE', `/budgets/${body.data.id}`, { key })
    expect(deleted.status).toBe(200)
    expect(deleted.body.data.id).toBe(body.data.id)
    expect((await api.call('DELETE', `/budgets/${body.data.id}`, { key })).status).toBe(404)
  })
})

describe('a spent budget in chat', () => {
  const chat = (key: string, agentId: string, body: Record<string, unknown> = {}) =>
    api.call('POST', `/chat/${agentId}`, { key, body: { message: 'Hello?', ...body } })

  it("refuses every agent's chat with 402 budget_exceeded, blocking or streamed, before the model or the database hear of it", async () => {
    const t = await createTenant()
    const key = await t.key()
    await api.call('PUT', '/budgets', { key, body: { period: 'day', limit_usd: 1 } })
    await spend(t, t.otherAgent.id, 1)
    const asked = llm.requests.length
    for (const body of [{}, { stream: true }]) {
      const res = await chat(key, t.agent.id, body)
      expect(res.status, JSON.stringify(body)).toBe(402)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect(res.body.error).toMatchObject({
        code: 'budget_exceeded',
        message: "The organisation's daily budget of 1 USD is spent.",
        period: 'day',
        limit_usd: 1,
        spent_usd: 1,
      })
    }
    expect(llm.requests.length).toBe(asked)
    const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.messages where org_id = ${t.org.id}`
    expect(n).toBe(0)
  })

  it("refuses only the agent whose own budget is spent, counting chat's own calls", async () => {
    const t = await createTenant()
    const key = await t.key()
    // gpt-4o-mini at 1000 + 1000 tokens: 0.00075 USD a reply.
    await api.call('PUT', '/budgets', { key, body: { agent_id: t.agent.id, period: 'month', limit_usd: 0.0015 } })
    expect((await chat(key, t.agent.id)).status).toBe(200)
    expect((await chat(key, t.agent.id)).status).toBe(200)
    const refused = await chat(key, t.agent.id)
    expect(refused.status).toBe(402)
    expect(refused.body.error.message).toBe("The agent's monthly budget of 0.0015 USD is spent.")
    expect((await chat(key, t.otherAgent.id)).status).toBe(200)
    const listed = await api.call('GET', '/budgets', { key })
    expect(listed.body.data[0]).toMatchObject({ spent_usd: 0.0015, remaining_usd: 0 })
  })

  it('lets the chat through again once the limit is raised or the budget deleted', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { body } = await api.call('PUT', '/budgets', { key, body: { period: 'month', limit_usd: 1 } })
    await spend(t, t.agent.id, 1)
    expect((await chat(key, t.agent.id)).status).toBe(402)
    await api.call('PUT', '/budgets', { key, body: { period: 'month', limit_usd: 2 } })
    expect((await chat(key, t.agent.id)).status).toBe(200)
    await spend(t, t.agent.id, 1)
    expect((await chat(key, t.agent.id)).status).toBe(402)
    await api.call('DELETE', `/budgets/${body.data.id}`, { key })
    const res = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi', stream: true } })
    const events = parseEvents(res.body).map((e) => e.event)
    expect(events.at(0)).toBe('message.start')
    expect(events.slice(-2)).toEqual(['message.end', 'done'])
    expect(events).not.toContain('error')
  })
})

describe('budget.threshold events', () => {
  async function thresholdEvents(t: Tenant) {
    return serviceSql()<{ data: any }[]>`select data from agentry.events
      where org_id = ${t.org.id} and type = 'budget.threshold' and endpoint_id is null order by created_at, (data->>'percent')::int`
  }

  it('are raised at 50, 80 and 100 %, each once per budget and period, with what was spent', async () => {
    const t = await createTenant()
    await createEndpoint(t, { events: ['budget.*'] })
    const key = await t.key({ scopes: ['budgets:write'] })
    const { body } = await api.call('PUT', '/budgets', { key, body: { period: 'day', limit_usd: 1 } })
    const agentBudget = await api.call('PUT', '/budgets', { key, body: { agent_id: t.agent.id, period: 'day', limit_usd: 10 } })
    await spend(t, t.agent.id, 0.4)
    expect(await thresholdEvents(t)).toEqual([])
    await spend(t, t.agent.id, 0.15)
    await spend(t, t.otherAgent.id, 0.1)
    await spend(t, t.otherAgent.id, 0.1)
    await spend(t, t.agent.id, 0.05)
    await spend(t, t.agent.id, 0.3)
    await spend(t, t.agent.id, 2)
    const expected = (percent: number, spent: number) => ({
      budget_id: body.data.id,
      agent_id: null,
      period: 'day',
      period_start: today(),
      percent,
      spent_usd: spent,
      limit_usd: 1,
    })
    expect((await thresholdEvents(t)).map((e) => e.data)).toEqual([expected(50, 0.55), expected(80, 0.8), expected(100, 1.1)])
    expect(agentBudget.status).toBe(201)
    // The next day is a new period: its first half raises 50 % again.
    await spend(t, null, 0.6, new Date(Date.now() + 86_400_000))
    const events = (await thresholdEvents(t)).map((e) => e.data)
    expect(events).toHaveLength(4)
    expect(events[3]).toMatchObject({
      percent: 50,
      spent_usd: 0.6,
      period_start: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10),
    })
  })

  it('raise every threshold a single large call crosses, in order, and nothing for an organisation not listening', async () => {
    const t = await createTenant()
    const quiet = await createTenant()
    await createEndpoint(t, { events: ['budget.threshold'] })
    for (const x of [t, quiet]) {
      const key = await x.key({ scopes: ['budgets:write'] })
      await api.call('PUT', '/budgets', { key, body: { agent_id: x.agent.id, period: 'month', limit_usd: 1 } })
      await spend(x, x.agent.id, 5)
    }
    expect((await thresholdEvents(t)).map((e) => [e.data.agent_id, e.data.percent])).toEqual([
      [t.agent.id, 50],
      [t.agent.id, 80],
      [t.agent.id, 100],
    ])
    expect(await thresholdEvents(quiet)).toEqual([])
  })
})

describeSecurity(listBudgetsRoute, {}, () => api)
describeSecurity(
  putBudgetRoute,
  {
    // A fresh agent each time, so that every request sets a new budget.
    body: async (t: Tenant) => ({
      agent_id: (await createAgent(serviceSql(), { orgId: t.org.id, name: `Budgeted ${crypto.randomUUID()}` })).id,
      period: 'day',
      limit_usd: 5,
    }),
    okStatus: 201,
  },
  () => api,
)
describeSecurity(
  deleteBudgetRoute,
  {
    params: async (t: Tenant) => {
      const [row] = await serviceSql()<{ id: string }[]>`
        insert into agentry.budgets (org_id, agent_id, period, limit_usd) values (${t.org.id}, ${t.agent.id}, 'day', 1)
        on conflict on constraint budgets_scope_key do update set limit_usd = 2 returning id`
      return { id: row.id }
    },
    otherAgentParams: async (t: Tenant) => {
      const [row] = await serviceSql()<{ id: string }[]>`
        insert into agentry.budgets (org_id, agent_id, period, limit_usd) values (${t.org.id}, ${t.otherAgent.id}, 'day', 1)
        on conflict on constraint budgets_scope_key do update set limit_usd = 2 returning id`
      return { id: row.id }
    },
  },
  () => api,
)
