import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findDelivery } from './queries.ts'
import { DeliveryDetail, DeliveryParams } from './schemas.ts'

export const getDeliveryRoute = defineRoute({
  method: 'get',
  path: '/webhooks/deliveries/{id}',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'Get a delivery with its attempts',
  description:
    "The event, the delivery's state and every attempt: status code, the error by category, latency and, once the endpoint " +
    'is verified (has answered a 2xx at its current URL), the first 2 KB of the answer.',
  request: { params: DeliveryParams },
  responses: { 200: { description: 'The delivery', content: { 'application/json': { schema: dataOf(DeliveryDetail) } } } },
})

export const registerGetDelivery = (api: Api) =>
  api.openapi(getDeliveryRoute, async (c) => {
    const { id } = c.req.valid('param')
    const delivery = await withTenant(tenantOf(c), (tx) => findDelivery(tx, id))
    if (!delivery) throw notFound('Delivery')
    return c.json({ data: delivery }, 200)
  })
