import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findKey } from './queries.ts'
import { ApiKey, KeyParams } from './schemas.ts'

export const getKeyRoute = defineRoute({
  method: 'get',
  path: '/agent/api-keys/{id}',
  scope: 'keys:read',
  tags: ['API keys'],
  summary: 'Get an API key',
  request: { params: KeyParams },
  responses: { 200: { description: 'The key', content: { 'application/json': { schema: dataOf(ApiKey) } } } },
})

export const registerGetKey = (api: Api) =>
  api.openapi(getKeyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const key = await withTenant(tenantOf(c), (tx) => findKey(tx, id))
    if (!key) throw notFound('API key')
    return c.json({ data: key }, 200)
  })
