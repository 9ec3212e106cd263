// The check every model call makes first (chat, runs): is the organisation's or the agent's budget for the
// current period already spent? One indexed lookup over the running totals the usage ledger's trigger keeps
// (supabase/migrations/20261130000032_budgets.sql), never a scan of the ledger.
import { databaseNow } from './clock.ts'
import type { Db } from './db.ts'
import { ApiError } from './errors.ts'

export interface BudgetScope {
  orgId: string
  /** The agent the call is made for; null for a call made for no agent (only the organisation's budget applies). */
  agentId: string | null
}

interface Refusal {
  budget_id: string
  agent_id: string | null
  period: 'day' | 'month'
  limit_usd: string
  spent_usd: string
}

/**
 * Throws `budget_exceeded` (402) when a budget that covers the call (the organisation's, or the agent's) has
 * spent its limit in the current UTC day or month. A call already under way is never cut short by this: what
 * it costs is counted when it is recorded, and the next call is refused.
 */
export async function assertWithinBudget(db: Db, scope: BudgetScope): Promise<void> {
  const [refusal] = await db<Refusal[]>`
    select budget_id, agent_id, period, limit_usd::text, spent_usd::text
    from agentry.budget_refusal(${scope.orgId}, ${scope.agentId}, ${databaseNow()})`
  if (!refusal) return
  const whose = refusal.agent_id === null ? "The organisation's" : "The agent's"
  const period = refusal.period === 'day' ? 'daily' : 'monthly'
  throw new ApiError('budget_exceeded', `${whose} ${period} budget of ${refusal.limit_usd} USD is spent.`, {
    budget_id: refusal.budget_id,
    agent_id: refusal.agent_id,
    period: refusal.period,
    limit_usd: Number(refusal.limit_usd),
    spent_usd: Number(refusal.spent_usd),
  })
}
