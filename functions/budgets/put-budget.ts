import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { withDates } from './list-budgets.ts'
import { findBudget, putBudget } from './queries.ts'
import { Budget, BudgetBody } from './schemas.ts'

export const putBudgetRoute = defineRoute({
  method: 'put',
  path: '/budgets',
  scope: 'budgets:write',
  tags: ['Budgets'],
  summary: 'Set a budget',
  description:
    "Sets the limit, in US dollars, of the organisation's budget (no `agent_id`) or an agent's, for each UTC day or " +
    'month: one budget per agent (or organisation) and period, so setting it again changes its limit. What the ' +
    'current period spent before the budget was set counts. Agent keys cannot set budgets.',
  request: { body: { content: { 'application/json': { schema: BudgetBody } } } },
  errors: { 404: 'No such agent for this credential' },
  responses: {
    200: { description: 'The budget, its limit changed', content: { 'application/json': { schema: dataOf(Budget) } } },
    201: { description: 'The budget, new', content: { 'application/json': { schema: dataOf(Budget) } } },
  },
})

export const registerPutBudget = (api: Api) =>
  api.openapi(putBudgetRoute, async (c) => {
    const body = c.req.valid('json')
    const tenant = tenantOf(c)
    const agentId = body.agent_id ?? null
    const budget = await withTenant(tenant, async (tx) => {
      const { id, created } = await putBudget(tx, { orgId: tenant.org_id, agentId, period: body.period, limitUsd: body.limit_usd })
      return { row: await findBudget(tx, id), created }
    }).catch((error) => {
      // The agent is not the organisation's: the foreign key (agent_id, org_id) refused it.
      if ((error as { code?: string }).code === '23503') throw notFound('Agent')
      throw error
    })
    if (!budget.row) throw notFound('Budget')
    return c.json({ data: withDates(budget.row) }, budget.created ? 201 : 200)
  })
