import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { retryDelivery } from './queries.ts'
import { Delivery, DeliveryParams } from './schemas.ts'

export const retryDeliveryRoute = defineRoute({
  method: 'post',
  path: '/webhooks/deliveries/{id}/retry',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Retry a delivery',
  description: 'Makes the delivery due now, whatever its state; a dead one gets one more attempt. A delivery being sent answers 409.',
  request: { params: DeliveryParams },
  errors: { 409: 'The delivery is being sent right now' },
  responses: { 202: { description: 'Queued', content: { 'application/json': { schema: dataOf(Delivery) } } } },
})

export const registerRetryDelivery = (api: Api) =>
  api.openapi(retryDeliveryRoute, async (c) => {
    const { id } = c.req.valid('param')
    const delivery = await withTenant(tenantOf(c), (tx) => retryDelivery(tx, id))
    if (!delivery) throw notFound('Delivery')
    if (delivery === 'in_flight') throw new ApiError('conflict', 'This delivery is being sent right now; retry once the attempt has ended.')
    return c.json({ data: delivery }, 202)
  })
