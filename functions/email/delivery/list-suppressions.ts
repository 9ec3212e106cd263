import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listSuppressions } from './queries.ts'
import { Suppression, SuppressionQuery } from './schemas.ts'

export const listSuppressionsRoute = defineRoute({
  method: 'get',
  path: '/delivery/suppressions',
  scope: 'messages:read',
  tags: ['Delivery'],
  summary: 'List suppressed addresses',
  description:
    'Addresses an inbox no longer sends to, newest first: added automatically when mail to them bounced for good ' +
    '(`hard_bounce`: a 5xx refusal from the relay or a bounce with a 5.x.x status) or their recipient complained ' +
    "(`complaint`). A send leaves them out and lists them in `suppressed`. Page with `next_cursor`; an agent key sees its own inboxes' lists.",
  request: { query: SuppressionQuery },
  responses: {
    200: { description: 'A page of suppressions', content: { 'application/json': { schema: cursorPage(Suppression) } } },
  },
})

export const registerListSuppressions = (api: Api) =>
  api.openapi(listSuppressionsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listSuppressions(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
