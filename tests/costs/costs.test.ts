// GET /costs: the usage ledger summed per UTC day, agent, model or key, exactly, between two days both
// included (the last 30 by default), as the caller may see it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getCostsRoute } from '../../functions/costs/get-costs.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(async () => {
  await api.close()
})

interface Call {
  agentId: string | null
  keyId?: string | null
  model: string
  prompt: number
  completion: number
  cost: number | null
  at: string
}

async function record(t: Tenant, calls: Call[]) {
  for (const c of calls) {
    await serviceSql()`insert into agentry.usage_records
        (org_id, agent_id, key_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
      values (${t.org.id}, ${c.agentId}, ${c.keyId ?? null}, 'fake', ${c.model}, ${c.prompt}, ${c.completion}, ${c.cost}, ${c.at})`
  }
}

const sums = (calls: number, prompt: number, completion: number, cost: number, unpriced = 0) => ({
  calls,
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  cost_usd: cost,
  unpriced_calls: unpriced,
})

describe('GET /costs', () => {
  let t: Tenant
  let key: string
  let keyId: string
  beforeAll(async () => {
    t = await createTenant()
    ;({ key, id: keyId } = await t.keyWithId({ scopes: ['runs:read'] }))
    await record(t, [
      { agentId: t.agent.id, keyId, model: 'gpt-4o', prompt: 100, completion: 10, cost: 0.125, at: '2026-03-01T00:00:00Z' },
      { agentId: t.agent.id, keyId, model: 'gpt-4o-mini', prompt: 200, completion: 20, cost: 0.25, at: '2026-03-01T23:59:59.999Z' },
      { agentId: t.otherAgent.id, model: 'gpt-4o', prompt: 300, completion: 30, cost: 0.5, at: '2026-03-02T12:00:00Z' },
      { agentId: null, model: 'fake-embed', prompt: 400, completion: 0, cost: null, at: '2026-03-02T13:00:00Z' },
      { agentId: t.agent.id, model: 'gpt-4o', prompt: 1, completion: 1, cost: 1, at: '2026-02-28T23:59:59Z' },
      { agentId: t.agent.id, model: 'gpt-4o', prompt: 1, completion: 1, cost: 1, at: '2026-03-03T00:00:00Z' },
    ])
  })
  const costs = (query: string, k = key) => api.call('GET', `/costs?${query}`, { key: k })

  it('sums each UTC day of the span, leaving out days without calls and days outside it', async () => {
    const res = await costs('group_by=day&from=2026-03-01&to=2026-03-02')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      group_by: 'day',
      from: '2026-03-01',
      to: '2026-03-02',
      data: [
        { group: '2026-03-01', ...sums(2, 300, 30, 0.375) },
        { group: '2026-03-02', ...sums(2, 700, 30, 0.5, 1) },
      ],
      total: sums(4, 1000, 60, 0.875, 1),
    })
  })

  it('sums per agent, model and key, null for calls made for no agent or with no key', async () => {
    const span = 'from=2026-03-01&to=2026-03-02'
    const byAgent = await costs(`group_by=agent&${span}`)
    expect(byAgent.body.data).toEqual(
      [
        { group: null, ...sums(1, 400, 0, 0, 1) },
        { group: t.agent.id, ...sums(2, 300, 30, 0.375) },
        { group: t.otherAgent.id, ...sums(1, 300, 30, 0.5) },
      ].sort((a, b) => (a.group === null ? -1 : b.group === null ? 1 : a.group.localeCompare(b.group))),
    )
    const byModel = await costs(`group_by=model&${span}`)
    expect(byModel.body.data).toEqual([
      { group: 'fake-embed', ...sums(1, 400, 0, 0, 1) },
      { group: 'gpt-4o', ...sums(2, 400, 40, 0.625) },
      { group: 'gpt-4o-mini', ...sums(1, 200, 20, 0.25) },
    ])
    const byKey = await costs(`group_by=key&${span}`)
    expect(byKey.body.data).toEqual([
      { group: null, ...sums(2, 700, 30, 0.5, 1) },
      { group: keyId, ...sums(2, 300, 30, 0.375) },
    ])
  })

  it("shows an agent key its own agent's calls only", async () => {
    const agentKey = await t.key({ scopes: ['runs:read'], agent: 'otherAgent' })
    const res = await costs('group_by=agent&from=2026-02-01&to=2026-03-31', agentKey)
    expect(res.body.data).toEqual([{ group: t.otherAgent.id, ...sums(1, 300, 30, 0.5) }])
  })

  it('counts the last 30 days, today included, when no span is given', async () => {
    const fresh = await createTenant()
    const now = Date.now()
    const day = (ago: number) => new Date(now - ago * 86_400_000).toISOString()
    await record(fresh, [
      { agentId: null, model: 'gpt-4o', prompt: 1, completion: 0, cost: 0.5, at: day(0) },
      { agentId: null, model: 'gpt-4o', prompt: 1, completion: 0, cost: 0.25, at: day(29) },
      { agentId: null, model: 'gpt-4o', prompt: 1, completion: 0, cost: 8, at: day(31) },
    ])
    const res = await costs('group_by=model', await fresh.key({ scopes: ['runs:read'] }))
    expect(res.body.to).toBe(day(0).slice(0, 10))
    expect(res.body.from).toBe(day(29).slice(0, 10))
    expect(res.body.total.cost_usd).toBe(0.75)
  })

  it('answers an empty span with zeros', async () => {
    const res = await costs('from=2020-01-01&to=2020-01-31')
    expect(res.body).toEqual({ group_by: 'day', from: '2020-01-01', to: '2020-01-31', data: [], total: sums(0, 0, 0, 0) })
  })

  it('refuses with 400 a span backwards or longer than 366 days, a date that is none, and an unknown grouping', async () => {
    for (const [query, field] of [
      ['from=2026-03-02&to=2026-03-01', 'from'],
      ['from=2025-01-01&to=2026-01-02', 'to'],
      ['from=2026-02-30', 'from'],
      ['from=2026-03-01T00:00:00Z', 'from'],
      ['group_by=week', 'group_by'],
    ]) {
      const res = await costs(query)
      expect(res.status, query).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(
        res.body.error.fields.map((f: { field: string }) => f.field),
        query,
      ).toEqual([field])
    }
    expect((await costs('from=2025-01-01&to=2026-01-01')).status).toBe(200)
  })
})

describeSecurity(getCostsRoute, {}, () => api)
