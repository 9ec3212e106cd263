import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { listItems } from './item-queries.ts'
import { BaseParams, ItemQuery, KnowledgeItemSummary } from './schemas.ts'

export const listItemsRoute = defineRoute({
  method: 'get',
  path: '/bases/{id}/items',
  scope: 'knowledge:read',
  tags: ['Knowledge'],
  summary: 'List the items of a knowledge base',
  description: 'Newest first, without their content, filtered by `namespace` or `status`; page with `next_cursor`.',
  request: { params: BaseParams, query: ItemQuery },
  responses: { 200: { description: 'A page of items', content: { 'application/json': { schema: cursorPage(KnowledgeItemSummary) } } } },
})

export const registerListItems = (api: Api) =>
  api.openapi(listItemsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), async (tx) => {
      await requireBase(tx, id)
      return listItems(tx, id, q)
    })
    return c.json(pageOf(rows, q.limit), 200)
  })
