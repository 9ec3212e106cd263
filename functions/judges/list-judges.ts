import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { listJudges } from './queries.ts'
import { Judge, JudgeQuery } from './schemas.ts'

export const listJudgesRoute = defineRoute({
  method: 'get',
  path: '/judges',
  scope: 'judges:read',
  tags: ['Judges'],
  summary: 'List judges',
  description: 'Newest first; page with `next_cursor`; filter by `agent_id`. An agent key sees its own agent’s judges.',
  request: { query: JudgeQuery },
  responses: { 200: { description: 'A page of judges', content: { 'application/json': { schema: cursorPage(Judge) } } } },
})

export const registerListJudges = (api: Api) =>
  api.openapi(listJudgesRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listJudges(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
