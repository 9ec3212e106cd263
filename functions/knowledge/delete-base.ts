import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteBase } from './base-queries.ts'
import { BaseParams, KnowledgeBase } from './schemas.ts'

export const deleteBaseRoute = defineRoute({
  method: 'delete',
  path: '/bases/{id}',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Delete a knowledge base',
  description: 'Deletes the base with its items and chunks (organisation credentials only). Answers with the base as it was.',
  request: { params: BaseParams },
  responses: { 200: { description: 'The deleted knowledge base', content: { 'application/json': { schema: dataOf(KnowledgeBase) } } } },
})

export const registerDeleteBase = (api: Api) =>
  api.openapi(deleteBaseRoute, async (c) => {
    const { id } = c.req.valid('param')
    const base = await withTenant(tenantOf(c), (tx) => deleteBase(tx, id))
    if (!base) throw notFound('Knowledge base')
    return c.json({ data: base }, 200)
  })
