import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listMessages, messageOf } from './queries.ts'
import { EmailMessage, MessageQuery, requireOneOf } from './schemas.ts'

export const listEmailMessagesRoute = defineRoute({
  method: 'get',
  path: '/messages',
  scope: 'messages:read',
  tags: ['Messages'],
  summary: 'List messages',
  description:
    'Messages of one inbox (`inbox_id`), of every inbox on a domain (`domain_id`) or from one sender (`sender`): at least ' +
    'one is required, and they combine. Narrow by time with `after` and `before`; newest first (`order=desc`, the default) ' +
    'or oldest first; page with `next_cursor`.',
  request: { query: MessageQuery },
  responses: { 200: { description: 'A page of messages', content: { 'application/json': { schema: cursorPage(EmailMessage) } } } },
})

export const registerListEmailMessages = (api: Api) =>
  api.openapi(listEmailMessagesRoute, async (c) => {
    const q = c.req.valid('query')
    requireOneOf(q, ['inbox_id', 'domain_id', 'sender'])
    const rows = await withTenant(tenantOf(c), (tx) => listMessages(tx, q))
    return c.json(pageOf(rows.map(messageOf), q.limit), 200)
  })
