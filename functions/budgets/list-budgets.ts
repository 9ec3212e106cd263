import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { z } from '@hono/zod-openapi'
import { listBudgets } from './queries.ts'
import { Budget } from './schemas.ts'

export const listBudgetsRoute = defineRoute({
  method: 'get',
  path: '/budgets',
  scope: 'budgets:read',
  tags: ['Budgets'],
  summary: 'List budgets',
  description:
    "The organisation's budget and its agents' (an agent key sees its own agent's), each with what its current UTC " +
    'day or month has spent and what remains. Every model call (chat, runs) is refused with `budget_exceeded` (402) ' +
    'once a budget covering it is spent; `budget.threshold` events are sent at 50, 80 and 100 %.',
  responses: {
    200: { description: 'The budgets', content: { 'application/json': { schema: z.object({ data: z.array(Budget) }) } } },
  },
})

export const registerListBudgets = (api: Api) =>
  api.openapi(listBudgetsRoute, async (c) => {
    const rows = await withTenant(tenantOf(c), (tx) => listBudgets(tx))
    return c.json({ data: rows.map(withDates) }, 200)
  })

/** Timestamps as ISO 8601, as every other resource shows them. */
export function withDates<T extends { created_at: string | Date; updated_at: string | Date }>(row: T) {
  return { ...row, created_at: new Date(row.created_at).toISOString(), updated_at: new Date(row.updated_at).toISOString() }
}
