import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { listDeliveries } from './queries.ts'
import { Delivery, DeliveryQuery } from './schemas.ts'

export const listDeliveriesRoute = defineRoute({
  method: 'get',
  path: '/webhooks/deliveries',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'List deliveries',
  description:
    'Newest first, filtered by `status` (pending, delivered, failed, dead), `endpoint_id` or `inbox_id`; page with `next_cursor`. ' +
    '`last_error` says why the last attempt failed by category only; the details are kept for the operator.',
  request: { query: DeliveryQuery },
  responses: {
    200: {
      description: 'A page of deliveries',
      content: { 'application/json': { schema: cursorPage(Delivery) } },
    },
  },
})

export const registerListDeliveries = (api: Api) =>
  api.openapi(listDeliveriesRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) =>
      listDeliveries(tx, { limit: q.limit, cursor: q.cursor, status: q.status, endpointId: q.endpoint_id, inboxId: q.inbox_id }),
    )
    return c.json(
      pageOf(
        rows.map((row) => ({ ...row, position: `${row.created_at}_${row.id}` })),
        q.limit,
      ),
      200,
    )
  })
