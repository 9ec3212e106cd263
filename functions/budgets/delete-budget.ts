import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { withDates } from './list-budgets.ts'
import { deleteBudget, findBudget } from './queries.ts'
import { Budget, BudgetParams } from './schemas.ts'

export const deleteBudgetRoute = defineRoute({
  method: 'delete',
  path: '/budgets/{id}',
  scope: 'budgets:write',
  tags: ['Budgets'],
  summary: 'Delete a budget',
  description: 'Removes the limit: calls it covered are no longer refused by it. What was spent stays in GET /costs.',
  request: { params: BudgetParams },
  responses: {
    200: { description: 'The budget as it was', content: { 'application/json': { schema: dataOf(Budget) } } },
  },
})

export const registerDeleteBudget = (api: Api) =>
  api.openapi(deleteBudgetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), async (tx) => {
      const found = await findBudget(tx, id)
      return found && (await deleteBudget(tx, id)) ? found : undefined
    })
    if (!row) throw notFound('Budget')
    return c.json({ data: withDates(row) }, 200)
  })
