import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findEndpoint, recoverDeliveries } from './queries.ts'
import { EndpointParams, RecoverBody } from './schemas.ts'

export const recoverEndpointRoute = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/recover',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Re-deliver failed deliveries',
  description: 'Puts every failed or dead delivery of this endpoint created since `since` back in the queue, due now.',
  request: { params: EndpointParams, body: { content: { 'application/json': { schema: RecoverBody } } } },
  responses: {
    202: {
      description: 'How many were queued',
      content: { 'application/json': { schema: dataOf(z.object({ queued: z.number().int() })) } },
    },
  },
})

export const registerRecoverEndpoint = (api: Api) =>
  api.openapi(recoverEndpointRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { since } = c.req.valid('json')
    const queued = await withTenant(tenantOf(c), async (tx) => {
      if (!(await findEndpoint(tx, id))) throw notFound('Webhook endpoint')
      return recoverDeliveries(tx, id, since)
    })
    return c.json({ data: { queued } }, 202)
  })
