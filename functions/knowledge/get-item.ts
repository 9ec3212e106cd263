import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { findItem } from './item-queries.ts'
import { ItemParams, KnowledgeItem } from './schemas.ts'

export const getItemRoute = defineRoute({
  method: 'get',
  path: '/bases/{id}/items/{itemId}',
  scope: 'knowledge:read',
  tags: ['Knowledge'],
  summary: 'Get an item',
  description: 'The item with its content, plain text and indexing progress (`status`, `chunks_done` of `chunks_total`, `error`).',
  request: { params: ItemParams },
  responses: { 200: { description: 'The item', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } } },
})

export const registerGetItem = (api: Api) =>
  api.openapi(getItemRoute, async (c) => {
    const { id, itemId } = c.req.valid('param')
    const item = await withTenant(tenantOf(c), async (tx) => {
      await requireBase(tx, id)
      return findItem(tx, id, itemId)
    })
    if (!item) throw notFound('Item')
    return c.json({ data: item }, 200)
  })
