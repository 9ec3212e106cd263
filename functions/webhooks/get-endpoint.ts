import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findEndpoint } from './queries.ts'
import { Endpoint, EndpointParams } from './schemas.ts'

export const getEndpointRoute = defineRoute({
  method: 'get',
  path: '/webhooks/{id}',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'Get a webhook endpoint',
  request: { params: EndpointParams },
  responses: { 200: { description: 'The endpoint', content: { 'application/json': { schema: dataOf(Endpoint) } } } },
})

export const registerGetEndpoint = (api: Api) =>
  api.openapi(getEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const endpoint = await withTenant(tenantOf(c), (tx) => findEndpoint(tx, id))
    if (!endpoint) throw notFound('Webhook endpoint')
    return c.json({ data: endpoint }, 200)
  })
