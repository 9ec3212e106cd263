// The costs part of `npm run bench`: GET /costs?group_by=day over a ledger of 1M model calls, against the
// same grouping run bare by postgres.js (over the daily sums the route reads, and over the ledger itself);
// and what a budget adds to a chat's time to first token (the same streamed chat with budgets set and with
// none), beside the check's own time run bare.
import type postgres from 'postgres'
import { benchChat } from './bench-chat.ts'

/** Spreads `calls` model calls over the last 30 days, two agents and three models, in batches. */
export async function seedBenchUsage(sql: postgres.Sql, orgId: string, agentIds: string[], calls: number): Promise<number> {
  const started = performance.now()
  const batch = 100_000
  for (let from = 0; from < calls; from += batch) {
    const to = Math.min(calls, from + batch) - 1
    await sql`
      insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
      select ${orgId}, (${agentIds}::uuid[])[1 + i % ${agentIds.length}], 'bench', (array['gpt-4o', 'gpt-4o-mini', 'bench'])[1 + i % 3],
             100 + i % 50, 20 + i % 10, case when i % 3 = 2 then null else round((i % 1000) / 1000000.0, 8) end,
             now() - (i % (30 * 24 * 60)) * interval '1 minute'
      from generate_series(${from}::int, ${to}::int) as i`
  }
  return Math.round((performance.now() - started) / 100) / 10
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 100) / 100
}

async function timeEach(n: number, run: () => Promise<unknown>): Promise<{ p50_ms: number; p99_ms: number }> {
  const times: number[] = []
  for (let i = 0; i < n + 10; i++) {
    const start = performance.now()
    await run()
    if (i >= 10) times.push(performance.now() - start)
  }
  return { p50_ms: percentile(times, 0.5), p99_ms: percentile(times, 0.99) }
}

export interface CostsFigures {
  api: { p50_ms: number; p99_ms: number }
  bare_daily_sums: { p50_ms: number; p99_ms: number }
  bare_ledger: { p50_ms: number; p99_ms: number }
  days: number
}

/** GET /costs?group_by=day (the last 30 days) one request at a time, and the same sums bare. */
export async function benchCosts(sql: postgres.Sql, api: string, key: string, orgId: string, requests: number): Promise<CostsFigures> {
  const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10)
  const to = new Date().toISOString().slice(0, 10)
  let days = 0
  const apiTimes = await timeEach(requests, async () => {
    const res = await fetch(`${api}/costs?group_by=day`, { headers: { authorization: `Bearer ${key}` } })
    if (res.status !== 200) throw new Error(`GET /costs answered ${res.status}: ${await res.text()}`)
    days = ((await res.json()) as { data: unknown[] }).data.length
  })
  const bareDaily = await timeEach(
    requests,
    () => sql`
      select day::text as group, sum(calls)::float8, sum(prompt_tokens)::float8, sum(completion_tokens)::float8,
             sum(cost_usd)::float8, sum(unpriced_calls)::float8
      from agentry.usage_daily where org_id = ${orgId} and day between ${from}::date and ${to}::date
      group by grouping sets ((day), ()) order by 1`,
  )
  const bareLedger = await timeEach(
    Math.min(requests, 20),
    () => sql`
      select (created_at at time zone 'UTC')::date as day, count(*), sum(prompt_tokens), sum(completion_tokens),
             sum(cost_usd), count(*) filter (where cost_usd is null)
      from agentry.usage_records
      where org_id = ${orgId} and created_at >= ${from}::date and created_at < ${to}::date + 1
      group by 1 order by 1`,
  )
  return { api: apiTimes, bare_daily_sums: bareDaily, bare_ledger: bareLedger, days }
}

export interface BudgetFigures {
  without_budgets_ttft_p50_ms: number
  with_budgets_ttft_p50_ms: number
  added_ttft_p50_ms: number
  check_bare: { p50_ms: number; p99_ms: number }
}

/**
 * The same streamed chat, alternately with the organisation's and the agent's budgets set (far from spent)
 * and with none; and the check's own statement, bare.
 */
export async function benchBudgetCheck(
  sql: postgres.Sql,
  api: string,
  key: string,
  orgId: string,
  agentId: string,
  modelBaseUrl: string,
  chats: number,
): Promise<BudgetFigures> {
  const rounds = 4
  const per = Math.max(10, Math.round(chats / rounds))
  const without: number[] = []
  const withBudgets: number[] = []
  for (let r = 0; r < rounds; r++) {
    await sql`delete from agentry.budgets where org_id = ${orgId}`
    without.push((await benchChat(api, key, agentId, modelBaseUrl, per)).api.ttft_p50_ms)
    await sql`insert into agentry.budgets (org_id, agent_id, period, limit_usd)
      values (${orgId}, null, 'month', 1000000000), (${orgId}, ${agentId}, 'day', 1000000000)`
    withBudgets.push((await benchChat(api, key, agentId, modelBaseUrl, per)).api.ttft_p50_ms)
  }
  const check = await timeEach(chats, () => sql`select * from agentry.budget_refusal(${orgId}, ${agentId}, null)`)
  await sql`delete from agentry.budgets where org_id = ${orgId}`
  const w = percentile(without, 0.5)
  const b = percentile(withBudgets, 0.5)
  return {
    without_budgets_ttft_p50_ms: w,
    with_budgets_ttft_p50_ms: b,
    added_ttft_p50_ms: Math.round((b - w) * 100) / 100,
    check_bare: check,
  }
}
