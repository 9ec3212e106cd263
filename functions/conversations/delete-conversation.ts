import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteConversation } from './queries.ts'
import { Conversation, ConversationParams } from './schemas.ts'

export const deleteConversationRoute = defineRoute({
  method: 'delete',
  path: '/conversations/{id}',
  scope: 'conversations:write',
  tags: ['Conversations'],
  summary: 'Delete a conversation',
  description: 'Deletes it with its messages (its usage stays in the ledger). Answers with the conversation as it was.',
  request: { params: ConversationParams },
  responses: { 200: { description: 'The deleted conversation', content: { 'application/json': { schema: dataOf(Conversation) } } } },
})

export const registerDeleteConversation = (api: Api) =>
  api.openapi(deleteConversationRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => deleteConversation(tx, id))
    if (!row) throw notFound('Conversation')
    return c.json({ data: row }, 200)
  })
