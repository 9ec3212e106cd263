import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { deleteItem } from './item-queries.ts'
import { ItemParams, KnowledgeItem } from './schemas.ts'

export const deleteItemRoute = defineRoute({
  method: 'delete',
  path: '/bases/{id}/items/{itemId}',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Delete an item',
  description: 'Deletes the item and its chunks; a queued indexing job for it then does nothing. Answers with the item as it was.',
  request: { params: ItemParams },
  responses: { 200: { description: 'The deleted item', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } } },
})

export const registerDeleteItem = (api: Api) =>
  api.openapi(deleteItemRoute, async (c) => {
    const { id, itemId } = c.req.valid('param')
    const item = await withTenant(tenantOf(c), async (tx) => {
      await requireBase(tx, id)
      return deleteItem(tx, id, itemId)
    })
    if (!item) throw notFound('Item')
    return c.json({ data: item }, 200)
  })
