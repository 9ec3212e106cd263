import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { insertItem } from './item-queries.ts'
import { BaseParams, CreateItemBody, KnowledgeItem } from './schemas.ts'

export const createItemRoute = defineRoute({
  method: 'post',
  path: '/bases/{id}/items',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Add an item to a knowledge base',
  description:
    'A document: its content as `text`, `markdown` or `html` (converted to plain text), a title, metadata, and optionally ' +
    'a `namespace` and your own `entry_id`. Answers at once with `status: "queued"`; indexing runs in the background ' +
    '(`queued → indexing → ready | failed`, with `chunks_done` of `chunks_total`), which GET shows.',
  request: { params: BaseParams, body: { content: { 'application/json': { schema: CreateItemBody } } } },
  errors: { 409: 'An item with this `entry_id` already exists in the base' },
  responses: {
    201: { description: 'The new item, queued for indexing', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } },
  },
})

export const registerCreateItem = (api: Api) =>
  api.openapi(createItemRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const item = await withTenant(tenantOf(c), async (tx) => {
      await requireBase(tx, id)
      return insertItem(tx, c.get('principal').orgId, id, body)
    })
    return c.json({ data: item }, 201)
  })
