import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { findConversation, listMessages } from './queries.ts'
import { pageOf } from '../_core/paging.ts'
import { ConversationParams, Message, MessageQuery } from './schemas.ts'

export const listMessagesRoute = defineRoute({
  method: 'get',
  path: '/conversations/{id}/messages',
  scope: 'conversations:read',
  tags: ['Conversations'],
  summary: "List a conversation's messages",
  description: 'In the order they were written, `oldest` first or `newest` first; page with `next_cursor`.',
  request: { params: ConversationParams, query: MessageQuery },
  responses: { 200: { description: 'A page of messages', content: { 'application/json': { schema: cursorPage(Message) } } } },
})

export const registerListMessages = (api: Api) =>
  api.openapi(listMessagesRoute, async (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), async (tx) => {
      if (!(await findConversation(tx, id))) throw notFound('Conversation')
      return listMessages(tx, id, q)
    })
    return c.json(pageOf(rows, q.limit), 200)
  })
