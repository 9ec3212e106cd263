import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireBase } from './base-queries.ts'
import { BaseParams, KnowledgeBase } from './schemas.ts'

export const getBaseRoute = defineRoute({
  method: 'get',
  path: '/bases/{id}',
  scope: 'knowledge:read',
  tags: ['Knowledge'],
  summary: 'Get a knowledge base',
  request: { params: BaseParams },
  responses: { 200: { description: 'The knowledge base', content: { 'application/json': { schema: dataOf(KnowledgeBase) } } } },
})

export const registerGetBase = (api: Api) =>
  api.openapi(getBaseRoute, async (c) => {
    const { id } = c.req.valid('param')
    const base = await withTenant(tenantOf(c), (tx) => requireBase(tx, id))
    return c.json({ data: base }, 200)
  })
