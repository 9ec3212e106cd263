import { z } from '@hono/zod-openapi'

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
    created_at: z.string(),
  })
  .openapi('ConversationMessage')

export const ConversationParams = z.object({ id: z.uuid({ message: 'Conversation id must be a UUID.' }).openapi({ param: { name: 'id', in: 'path' } }) })

const cursorOf = (shape: RegExp) =>
  z.string().regex(shape, { message: 'Use the next_cursor of the previous page.' }).optional().openapi({ description: 'The `next_cursor` of the previous page.' })

export const ConversationQuery = z.object({
  agent_id: z.uuid().optional(),
  status: z.enum(conversationStatuses).optional(),
  user: z.string().max(200).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: '1–100, default 20.' }),
  cursor: cursorOf(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/),
})

export const MessageQuery = z.object({
  order: z.enum(['oldest', 'newest']).default('oldest').openapi({ description: '`oldest` first (default) or `newest` first.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: '1–200, default 50.' }),
  cursor: cursorOf(/^\d{1,18}$/),
})

export const UpdateConversationBody = z
  .strictObject({
    title: z.string().trim().min(1).max(200).optional(),
    status: z.enum(conversationStatuses).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('UpdateConversation')

export const page = <T extends z.ZodTypeAny>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable(), has_more: z.boolean() })
