import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listDeliveryEvents } from './queries.ts'
import { DeliveryEvent, DeliveryEventQuery } from './schemas.ts'

export const listDeliveryEventsRoute = defineRoute({
  method: 'get',
  path: '/delivery/events',
  scope: 'messages:read',
  tags: ['Delivery'],
  summary: 'List delivery events',
  description:
    'What happened to each recipient of sent mail, newest first: `sent` (handed to the relay or to an inbox here), ' +
    '`delivered` (stored by an inbox here, or a delivery notification came back), `bounced` (refused by the relay, or a ' +
    'bounce message came back), `complained` (a feedback report came back), `failed` (never left after every retry) and ' +
    '`suppressed` (left out of a send because of the suppression list). Filter by `inbox_id`, `message_id` and ' +
    "`event_type`; page with `next_cursor`. An agent key sees its own inboxes' events.",
  request: { query: DeliveryEventQuery },
  responses: {
    200: { description: 'A page of delivery events', content: { 'application/json': { schema: cursorPage(DeliveryEvent) } } },
  },
})

export const registerListDeliveryEvents = (api: Api) =>
  api.openapi(listDeliveryEventsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listDeliveryEvents(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
