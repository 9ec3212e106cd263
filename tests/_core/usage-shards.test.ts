// The usage ledger's daily sums: written in shards by concurrent connections, summed by readers, and folded
// into one row a key once the day is past.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { foldUsageShards } from '../../functions/_core/usage-shards.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'

let drop: () => Promise<void>
beforeAll(async () => {
  // A database of this file's own: folding reaches every organisation's sums.
  drop = (await isolateDatabase()).drop
})
afterAll(async () => drop())

/** Records a call on a connection of its own; answers the shard that connection adds to. */
async function insertUsage(orgId: string, agentId: string, daysAgo: number, costUsd: number): Promise<number> {
  const connection = await serviceSql().reserve()
  try {
    await connection`
      insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
      values (${orgId}, ${agentId}, 'openai', 'gpt-4o', 10, 5, ${costUsd}, now() - make_interval(days => ${daysAgo}))`
    const [{ shard }] = await connection<{ shard: number }[]>`select agentry.total_shard() as shard`
    return shard
  } finally {
    connection.release()
  }
}

const dailyRows = async (orgId: string) =>
  serviceSql()<{ day: string; shards: number; calls: number; cost: number }[]>`
    select day::text, count(*)::int as shards, sum(calls)::int as calls, sum(cost_usd)::float8 as cost
    from agentry.usage_daily where org_id = ${orgId} group by day order by day`

describe("the usage ledger's daily sums", () => {
  it('spread one organisation’s concurrent calls over shards, and sum to every call', async () => {
    const t = await createTenant()
    // Twenty connections of their own, each recording calls at the same time.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const connection = await serviceSql().reserve()
        try {
          for (let i = 0; i < 5; i++)
            await connection`
              insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd)
              values (${t.org.id}, ${t.agent.id}, 'openai', 'gpt-4o', 10, 5, 0.25)`
        } finally {
          connection.release()
        }
      }),
    )
    const [today] = await dailyRows(t.org.id)
    expect(today.calls).toBe(100)
    expect(today.cost).toBe(25)
    expect(today.shards).toBeGreaterThan(1)
    const [spent] = await serviceSql()<{ spent: number }[]>`
      select sum(spent_usd)::float8 as spent from agentry.spend_totals
      where org_id = ${t.org.id} and agent_id = '00000000-0000-0000-0000-000000000000' and period = 'day'`
    expect(spent.spent).toBe(25)
  })

  it('are folded into one row a key once the day is past, keeping every sum, and today is left as it is', async () => {
    const t = await createTenant()
    const recorded = await insertUsage(t.org.id, t.agent.id, 2, 1)
    // Three more shards of each day, none of them the one the call went to.
    await serviceSql()`
      insert into agentry.usage_daily (org_id, day, agent_id, model, key_id, shard, calls, prompt_tokens, completion_tokens, cost_usd, unpriced_calls)
      select ${t.org.id}, d, ${t.agent.id}, 'gpt-4o', null, (${recorded}::int + s) % 16, 2, 20, 10, 0.5, 1
      from unnest(array[(now() at time zone 'UTC')::date - 2, (now() at time zone 'UTC')::date]) as d, generate_series(1, 3) as s`
    const before = await dailyRows(t.org.id)
    expect(before.map((r) => r.shards)).toEqual([4, 3])

    expect(await foldUsageShards(serviceSql())).toBe(1)
    const after = await dailyRows(t.org.id)
    expect(after).toEqual([{ ...before[0], shards: 1 }, before[1]])
    const [folded] = await serviceSql()<{ shard: number; unpriced_calls: number; prompt_tokens: number }[]>`
      select shard, unpriced_calls::int, prompt_tokens::int from agentry.usage_daily where org_id = ${t.org.id} and day = (now() at time zone 'UTC')::date - 2`
    expect(folded).toEqual({ shard: 0, unpriced_calls: 3, prompt_tokens: 70 })
    expect(await foldUsageShards(serviceSql())).toBe(0)
  })
})
