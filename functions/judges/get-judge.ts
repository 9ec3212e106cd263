import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findJudge } from './queries.ts'
import { Judge, JudgeParams } from './schemas.ts'

export const getJudgeRoute = defineRoute({
  method: 'get',
  path: '/judges/{id}',
  scope: 'judges:read',
  tags: ['Judges'],
  summary: 'Get a judge',
  request: { params: JudgeParams },
  responses: { 200: { description: 'The judge', content: { 'application/json': { schema: dataOf(Judge) } } } },
})

export const registerGetJudge = (api: Api) =>
  api.openapi(getJudgeRoute, async (c) => {
    const { id } = c.req.valid('param')
    const judge = await withTenant(tenantOf(c), (tx) => findJudge(tx, id))
    if (!judge) throw notFound('Judge')
    return c.json({ data: judge }, 200)
  })
