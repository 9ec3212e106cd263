import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { forgetKey } from '../_core/request-path.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteKey, revokeKey } from './queries.ts'
import { keyWithinReach } from './reach.ts'
import { ApiKey, DeleteKeyQuery, KeyParams } from './schemas.ts'

export const deleteKeyRoute = defineRoute({
  method: 'delete',
  path: '/agent/api-keys/{id}',
  scope: 'keys:write',
  tags: ['API keys'],
  summary: 'Revoke or delete an API key',
  description:
    'Revokes the key: it is rejected from the very next request, and its record and usage history are kept. ' +
    'With `permanent=true` the record is deleted instead. Revoking is idempotent. A key can revoke or delete ' +
    'only keys whose every scope it holds.',
  request: { params: KeyParams, query: DeleteKeyQuery },
  responses: { 200: { description: 'The revoked (or deleted) key', content: { 'application/json': { schema: dataOf(ApiKey) } } } },
})

export const registerDeleteKey = (api: Api) =>
  api.openapi(deleteKeyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const permanent = c.req.valid('query').permanent === 'true'
    const p = c.get('principal')
    const key = await withTenant(tenantOf(c), async (tx) => {
      await keyWithinReach(tx, id, p.scopes, permanent ? 'deleting' : 'revoking')
      return permanent ? deleteKey(tx, id) : revokeKey(tx, id)
    })
    if (!key) throw notFound('API key')
    forgetKey(id)
    return c.json({ data: key }, 200)
  })
