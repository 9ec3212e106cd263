import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findConversation } from './queries.ts'
import { Conversation, ConversationParams } from './schemas.ts'

export const getConversationRoute = defineRoute({
  method: 'get',
  path: '/conversations/{id}',
  scope: 'conversations:read',
  tags: ['Conversations'],
  summary: 'Get a conversation',
  request: { params: ConversationParams },
  responses: { 200: { description: 'The conversation', content: { 'application/json': { schema: dataOf(Conversation) } } } },
})

export const registerGetConversation = (api: Api) =>
  api.openapi(getConversationRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => findConversation(tx, id))
    if (!row) throw notFound('Conversation')
    return c.json({ data: row }, 200)
  })
