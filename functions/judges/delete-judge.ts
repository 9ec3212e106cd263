import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteJudge } from './queries.ts'
import { Judge, JudgeParams } from './schemas.ts'

export const deleteJudgeRoute = defineRoute({
  method: 'delete',
  path: '/judges/{id}',
  scope: 'judges:write',
  tags: ['Judges'],
  summary: 'Delete a judge',
  description:
    'Runs completing from now on are no longer judged by it; its judgements stay, with its name. Answers with the judge as it was.',
  request: { params: JudgeParams },
  responses: { 200: { description: 'The deleted judge', content: { 'application/json': { schema: dataOf(Judge) } } } },
})

export const registerDeleteJudge = (api: Api) =>
  api.openapi(deleteJudgeRoute, async (c) => {
    const { id } = c.req.valid('param')
    const judge = await withTenant(tenantOf(c), (tx) => deleteJudge(tx, id))
    if (!judge) throw notFound('Judge')
    return c.json({ data: judge }, 200)
  })
