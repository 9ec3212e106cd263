import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import type { Api } from '../_core/server.ts'
import { listRuns } from './queries.ts'
import { Run, RunQuery } from './schemas.ts'

export const listRunsRoute = defineRoute({
  method: 'get',
  path: '/runs',
  scope: 'runs:read',
  tags: ['Runs'],
  summary: 'List runs',
  description:
    'Newest first, filtered by `agent_id`, `status` or `created_after`; page with `next_cursor`. An agent key sees its own agent’s runs.',
  request: { query: RunQuery },
  responses: { 200: { description: 'A page of runs', content: { 'application/json': { schema: cursorPage(Run) } } } },
})

export const registerListRuns = (api: Api) =>
  api.openapi(listRunsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) =>
      listRuns(tx, { limit: q.limit, cursor: q.cursor, agentId: q.agent_id, status: q.status, createdAfter: q.created_after }),
    )
    return c.json(pageOf(rows, q.limit), 200)
  })
