import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { findItem, updateItem } from './item-queries.ts'
import { ItemParams, KnowledgeItem, UpdateItemBody } from './schemas.ts'

export const updateItemRoute = defineRoute({
  method: 'patch',
  path: '/bases/{id}/items/{itemId}',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Update an item',
  description:
    'A change to its title, content, content type, metadata or namespace queues it for indexing again (`status: "queued"`, ' +
    'a new `content_version`); changing `entry_id` alone does not.',
  request: { params: ItemParams, body: { content: { 'application/json': { schema: UpdateItemBody } } } },
  errors: { 409: 'Another item of the base has this `entry_id`' },
  responses: { 200: { description: 'The item', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } } },
})

export const registerUpdateItem = (api: Api) =>
  api.openapi(updateItemRoute, async (c) => {
    const { id, itemId } = c.req.valid('param')
    const body = c.req.valid('json')
    const item = await withTenant(tenantOf(c), async (tx) => {
      await requireBase(tx, id)
      const current = await findItem(tx, id, itemId)
      if (!current) throw notFound('Item')
      return updateItem(tx, current, body)
    })
    return c.json({ data: item }, 200)
  })
