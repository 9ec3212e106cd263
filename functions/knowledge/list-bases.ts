import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { listBases } from './base-queries.ts'
import { BaseQuery, KnowledgeBase } from './schemas.ts'

export const listBasesRoute = defineRoute({
  method: 'get',
  path: '/bases',
  scope: 'knowledge:read',
  tags: ['Knowledge'],
  summary: 'List knowledge bases',
  description: 'Newest first; page with `next_cursor`. An agent key sees the bases linked to its agent.',
  request: { query: BaseQuery },
  responses: { 200: { description: 'A page of knowledge bases', content: { 'application/json': { schema: cursorPage(KnowledgeBase) } } } },
})

export const registerListBases = (api: Api) =>
  api.openapi(listBasesRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listBases(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
