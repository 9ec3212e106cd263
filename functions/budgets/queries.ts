import { databaseNow } from '../_core/clock.ts'
import type { Tx } from '../_core/db.ts'

interface BudgetRow {
  id: string
  agent_id: string | null
  period: 'day' | 'month'
  limit_usd: number
  period_start: string
  spent_usd: number
  remaining_usd: number
  created_at: string
  updated_at: string
}

const columns = (tx: Tx) => tx`
  b.id, b.agent_id, b.period, b.limit_usd::float8 as limit_usd, s.period_start::text as period_start,
  s.spent_usd::float8 as spent_usd, greatest(b.limit_usd - s.spent_usd, 0)::float8 as remaining_usd,
  b.created_at, b.updated_at`

/** The budgets the caller sees, the organisation's first, each with its current period's spending. */
export function listBudgets(tx: Tx) {
  return tx<BudgetRow[]>`
    select ${columns(tx)}
    from agentry.budgets b join agentry.budget_spend(${databaseNow()}) s on s.budget_id = b.id
    order by b.agent_id nulls first, b.period, b.id`
}

export async function findBudget(tx: Tx, id: string): Promise<BudgetRow | undefined> {
  const [row] = await tx<BudgetRow[]>`
    select ${columns(tx)}
    from agentry.budgets b join agentry.budget_spend(${databaseNow()}) s on s.budget_id = b.id
    where b.id = ${id}`
  return row
}

/** Sets the limit of the organisation's or the agent's budget for the period; true when it is new. */
export async function putBudget(
  tx: Tx,
  b: { orgId: string; agentId: string | null; period: 'day' | 'month'; limitUsd: number },
): Promise<{ id: string; created: boolean }> {
  const [row] = await tx<{ id: string; created: boolean }[]>`
    insert into agentry.budgets (org_id, agent_id, period, limit_usd)
    values (${b.orgId}, ${b.agentId}, ${b.period}, ${b.limitUsd})
    on conflict on constraint budgets_scope_key do update set limit_usd = excluded.limit_usd, updated_at = now()
    returning id, (xmax = 0) as created`
  return row
}

export async function deleteBudget(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from agentry.budgets where id = ${id} returning id`
  return rows.length > 0
}
