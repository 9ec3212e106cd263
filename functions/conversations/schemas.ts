import { z } from '@hono/zod-openapi'
import { Citation } from '../_core/retrieval.ts'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'

export const conversationStatuses = ['open', 'closed', 'archived'] as const

export const Conversation = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid(),
    title: z.string(),
    status: z.enum(conversationStatuses),
    user: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    message_count: z.number().int(),
    last_message_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Conversation')

export const Message = z
  .object({
    id: z.uuid(),
    conversation_id: z.uuid(),
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    status: z.enum(['complete', 'incomplete', 'failed']),
    model: z.string().nullable(),
    usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int() }).nullable(),
    user: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    citations: z
      .array(Citation)
      .openapi({ description: "An assistant reply's sources: the knowledge passages it was given. Empty otherwise." }),
    created_at: z.string(),
  })
  .openapi('ConversationMessage')

export const ConversationParams = idParams('Conversation')

export const ConversationQuery = z.object({
  agent_id: z.uuid().optional(),
  status: z.enum(conversationStatuses).optional(),
  user: z.string().max(200).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/),
})

export const MessageQuery = z.object({
  order: z.enum(['oldest', 'newest']).default('oldest').openapi({ description: '`oldest` first (default) or `newest` first.' }),
  limit: limitParam(200, 50),
  cursor: cursorParam(/^\d{1,18}$/),
})

export const UpdateConversationBody = z
  .strictObject({
    title: z.string().trim().min(1).max(200).optional(),
    status: z.enum(conversationStatuses).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('UpdateConversation')
