import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listThreadMessages, messageOf } from '../messages/queries.ts'
import { EmailMessage } from '../messages/schemas.ts'
import { findThreadMetadata } from './queries.ts'
import { ThreadMessagesQuery, ThreadParams } from './schemas.ts'

export const listThreadMessagesRoute = defineRoute({
  method: 'get',
  path: '/threads/{id}/messages',
  scope: 'threads:read',
  tags: ['Threads'],
  summary: "List a thread's messages",
  description:
    'The whole conversation, inbound and outbound, oldest first (`order=asc`, the default) or newest first; page with `next_cursor`.',
  request: { params: ThreadParams, query: ThreadMessagesQuery },
  responses: { 200: { description: 'A page of messages', content: { 'application/json': { schema: cursorPage(EmailMessage) } } } },
})

export const registerListThreadMessages = (api: Api) =>
  api.openapi(listThreadMessagesRoute, async (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), async (tx) => {
      if (!(await findThreadMetadata(tx, id))) throw notFound('Thread')
      return listThreadMessages(tx, id, q)
    })
    return c.json(pageOf(rows.map(messageOf), q.limit), 200)
  })
