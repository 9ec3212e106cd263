import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { listConversations } from './queries.ts'
import { Conversation, ConversationQuery } from './schemas.ts'
import { pageOf } from '../_core/paging.ts'

export const listConversationsRoute = defineRoute({
  method: 'get',
  path: '/conversations',
  scope: 'conversations:read',
  tags: ['Conversations'],
  summary: 'List conversations',
  description: 'Newest first, filtered by `agent_id`, `status`, `user` or `created_after`; page with `next_cursor`.',
  request: { query: ConversationQuery },
  responses: { 200: { description: 'A page of conversations', content: { 'application/json': { schema: cursorPage(Conversation) } } } },
})

export const registerListConversations = (api: Api) =>
  api.openapi(listConversationsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) =>
      listConversations(tx, {
        limit: q.limit,
        cursor: q.cursor,
        agentId: q.agent_id,
        status: q.status,
        user: q.user,
        createdAfter: q.created_after,
      }),
    )
    return c.json(pageOf(rows, q.limit), 200)
  })
