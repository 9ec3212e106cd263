import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { updateConversation } from './queries.ts'
import { Conversation, ConversationParams, UpdateConversationBody } from './schemas.ts'

export const updateConversationRoute = defineRoute({
  method: 'patch',
  path: '/conversations/{id}',
  scope: 'conversations:write',
  tags: ['Conversations'],
  summary: 'Update a conversation',
  description: 'Rename it, change its status (`open`, `closed`, `archived`; only an open conversation takes new messages) or its metadata.',
  request: { params: ConversationParams, body: { content: { 'application/json': { schema: UpdateConversationBody } } } },
  responses: { 200: { description: 'The conversation', content: { 'application/json': { schema: dataOf(Conversation) } } } },
})

export const registerUpdateConversation = (api: Api) =>
  api.openapi(updateConversationRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => updateConversation(tx, id, c.req.valid('json')))
    if (!row) throw notFound('Conversation')
    return c.json({ data: row }, 200)
  })
