import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findEndpoint, queueTestEvent } from './queries.ts'
import { EndpointParams } from './schemas.ts'

export const testEndpointRoute = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/test',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Send a test event',
  description:
    'Queues a `webhook.test` event to this endpoint alone (even a disabled one). Follow it with GET /webhooks/deliveries/{delivery_id}.',
  request: { params: EndpointParams },
  responses: {
    202: {
      description: 'Queued',
      content: { 'application/json': { schema: dataOf(z.object({ event_id: z.uuid(), delivery_id: z.uuid() })) } },
    },
  },
})

export const registerTestEndpoint = (api: Api) =>
  api.openapi(testEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const p = c.get('principal')
    const queued = await withTenant(tenantOf(c), async (tx) => {
      const endpoint = await findEndpoint(tx, id)
      if (!endpoint) throw notFound('Webhook endpoint')
      return queueTestEvent(tx, endpoint, p.orgId)
    })
    return c.json({ data: queued }, 202)
  })
