// The budget check before a model call, against the running totals the usage ledger's trigger keeps: an
// organisation's budget covers all its agents, an agent's budget only that agent, each per UTC day or month,
// and a new period starts from nothing.
import { afterEach, describe, expect, it } from 'vitest'
import { assertWithinBudget } from '../../functions/_core/budgets.ts'
import { resetClockForTests, stopClockForTests } from '../../functions/_core/clock.ts'
import { ApiError } from '../../functions/_core/errors.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

afterEach(() => resetClockForTests())

async function setBudget(t: Tenant, agentId: string | null, period: 'day' | 'month', limitUsd: number) {
  await serviceSql()`insert into agentry.budgets (org_id, agent_id, period, limit_usd)
    values (${t.org.id}, ${agentId}, ${period}, ${limitUsd})`
}

async function spend(t: Tenant, agentId: string | null, costUsd: number | null, at = new Date()) {
  await serviceSql()`insert into agentry.usage_records
      (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
    values (${t.org.id}, ${agentId}, 'fake', 'gpt-4o-mini', 10, 5, ${costUsd}, ${at})`
}

async function refusal(t: Tenant, agentId: string | null): Promise<ApiError | null> {
  try {
    await assertWithinBudget(serviceSql(), { orgId: t.org.id, agentId })
    return null
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
}

describe('assertWithinBudget', () => {
  it('lets every call through for an organisation without budgets, however much it spent', async () => {
    const t = await createTenant()
    await spend(t, t.agent.id, 1000)
    expect(await refusal(t, t.agent.id)).toBeNull()
    expect(await refusal(t, null)).toBeNull()
  })

  it("refuses with budget_exceeded (402) once the organisation's budget is spent, for every agent and none", async () => {
    const t = await createTenant()
    await setBudget(t, null, 'day', 1)
    await spend(t, t.agent.id, 0.6)
    expect(await refusal(t, t.otherAgent.id)).toBeNull()
    await spend(t, t.otherAgent.id, 0.4)
    for (const agentId of [t.agent.id, t.otherAgent.id, null]) {
      const error = await refusal(t, agentId)
      expect(error?.code).toBe('budget_exceeded')
      expect(error?.status).toBe(402)
      expect(error?.message).toBe("The organisation's daily budget of 1 USD is spent.")
      expect(error?.details).toMatchObject({ agent_id: null, period: 'day', limit_usd: 1, spent_usd: 1 })
    }
  })

  it('refuses only the agent whose own budget is spent; its siblings still call', async () => {
    const t = await createTenant()
    await setBudget(t, t.agent.id, 'month', 0.5)
    await setBudget(t, null, 'month', 100)
    await spend(t, t.agent.id, 0.5)
    expect((await refusal(t, t.agent.id))?.message).toBe("The agent's monthly budget of 0.5 USD is spent.")
    expect(await refusal(t, t.otherAgent.id)).toBeNull()
    expect(await refusal(t, null)).toBeNull()
  })

  it('counts calls of unknown cost as nothing, and counts what was spent before the budget was set', async () => {
    const t = await createTenant()
    await spend(t, t.agent.id, null)
    await spend(t, t.agent.id, 2)
    await setBudget(t, t.agent.id, 'day', 2)
    expect((await refusal(t, t.agent.id))?.code).toBe('budget_exceeded')
    const [total] = await serviceSql()`select sum(spent_usd)::float8 as spent from agentry.spend_totals
      where org_id = ${t.org.id} and agent_id = ${t.agent.id} and period = 'day'`
    expect(total.spent).toBe(2)
  })

  it("starts each period afresh: yesterday's spending refuses yesterday and lets today through", async () => {
    const t = await createTenant()
    await setBudget(t, null, 'day', 1)
    await setBudget(t, t.agent.id, 'month', 10)
    await spend(t, t.agent.id, 1.5, new Date('2026-03-31T23:59:00Z'))
    stopClockForTests(new Date('2026-03-31T23:59:59Z'))
    expect((await refusal(t, t.agent.id))?.details).toMatchObject({ period: 'day' })
    stopClockForTests(new Date('2026-04-01T00:00:00Z'))
    expect(await refusal(t, t.agent.id)).toBeNull()
    // The month's budget turns with the month too.
    await spend(t, t.agent.id, 9, new Date('2026-03-15T12:00:00Z'))
    stopClockForTests(new Date('2026-03-31T12:00:00Z'))
    expect((await refusal(t, t.agent.id))?.details).toMatchObject({ period: 'day' })
    await serviceSql()`delete from agentry.budgets where org_id = ${t.org.id} and agent_id is null`
    expect((await refusal(t, t.agent.id))?.details).toMatchObject({ period: 'month', spent_usd: 10.5 })
    stopClockForTests(new Date('2026-04-01T00:00:00Z'))
    expect(await refusal(t, t.agent.id)).toBeNull()
  })

  it("never answers about another organisation's budgets to a tenant", async () => {
    const t = await createTenant()
    const other = await createTenant()
    await setBudget(other, null, 'day', 1)
    await spend(other, null, 5)
    const sql = serviceSql()
    const rows = await sql.begin(async (tx) => {
      await tx.unsafe(
        `set local role authenticated; set local request.jwt.claims = '${JSON.stringify({ org_id: t.org.id, scopes: ['chat:write'] })}'`,
      )
      return tx`select * from agentry.budget_refusal(${other.org.id}, null)`
    })
    expect(rows).toHaveLength(0)
    const unclaimed = await sql.begin(async (tx) => {
      await tx.unsafe('set local role authenticated')
      return tx`select * from agentry.budget_refusal(${other.org.id}, null)`
    })
    expect(unclaimed).toHaveLength(0)
    const own = await sql.begin(async (tx) => {
      await tx.unsafe(
        `set local role authenticated; set local request.jwt.claims = '${JSON.stringify({ org_id: other.org.id, scopes: ['chat:write'] })}'`,
      )
      return tx`select period from agentry.budget_refusal(${other.org.id}, null)`
    })
    expect(own).toEqual([{ period: 'day' }])
  })
})
