import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteEndpoint } from './queries.ts'
import { Endpoint, EndpointParams } from './schemas.ts'

export const deleteEndpointRoute = defineRoute({
  method: 'delete',
  path: '/webhooks/{id}',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Delete a webhook endpoint',
  description: 'Deletes the endpoint with its deliveries and their attempts. Answers with the endpoint as it was.',
  request: { params: EndpointParams },
  responses: { 200: { description: 'The deleted endpoint', content: { 'application/json': { schema: dataOf(Endpoint) } } } },
})

export const registerDeleteEndpoint = (api: Api) =>
  api.openapi(deleteEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const endpoint = await withTenant(tenantOf(c), (tx) => deleteEndpoint(tx, id))
    if (!endpoint) throw notFound('Webhook endpoint')
    return c.json({ data: endpoint }, 200)
  })
