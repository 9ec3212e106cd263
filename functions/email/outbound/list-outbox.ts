import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listOutbox } from './outbox-queries.ts'
import { OutboxMessage, OutboxQuery } from './schemas.ts'

export const listOutboxRoute = defineRoute({
  method: 'get',
  path: '/outbox',
  scope: 'messages:read',
  tags: ['Messages'],
  summary: 'List the outbox',
  description:
    'Messages kept because they are for addresses outside this server and no SMTP relay (`SMTP_URL`) is configured, newest ' +
    'first; page with `next_cursor`. Once a relay is configured, `POST /outbox/release` sends them. An agent key sees ' +
    "its own inboxes' messages.",
  request: { query: OutboxQuery },
  responses: {
    200: { description: 'A page of outboxed messages', content: { 'application/json': { schema: cursorPage(OutboxMessage) } } },
  },
})

export const registerListOutbox = (api: Api) =>
  api.openapi(listOutboxRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listOutbox(tx, { limit: q.limit, cursor: q.cursor, inboxId: q.inbox_id }))
    return c.json(pageOf(rows, q.limit), 200)
  })
