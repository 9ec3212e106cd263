import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { refuseUnreachableUrl } from './endpoint-url.ts'
import { updateEndpoint } from './queries.ts'
import { Endpoint, EndpointParams, UpdateEndpointBody } from './schemas.ts'

export const updateEndpointRoute = defineRoute({
  method: 'patch',
  path: '/webhooks/{id}',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Update a webhook endpoint',
  description: 'Change its URL, subscriptions, filters or description, or disable and enable it.',
  request: { params: EndpointParams, body: { content: { 'application/json': { schema: UpdateEndpointBody } } } },
  responses: { 200: { description: 'The endpoint', content: { 'application/json': { schema: dataOf(Endpoint) } } } },
})

export const registerUpdateEndpoint = (api: Api) =>
  api.openapi(updateEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    if (body.url) refuseUnreachableUrl(body.url)
    const endpoint = await withTenant(tenantOf(c), (tx) =>
      updateEndpoint(tx, id, {
        ...body,
        events: body.events && [...new Set(body.events)],
        filters: body.filters as Record<string, string> | undefined,
      }),
    )
    if (!endpoint) throw notFound('Webhook endpoint')
    return c.json({ data: endpoint }, 200)
  })
