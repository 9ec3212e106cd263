import { z } from '@hono/zod-openapi'
import { idParams, limitParam } from '../../_core/schemas.ts'
import { order, timeCursor } from '../messages/schemas.ts'

export const threadStatuses = ['open', 'needs_reply', 'waiting', 'closed'] as const

export const ThreadMetadata = z
  .object({
    thread_id: z.uuid(),
    tags: z.array(z.string()),
    status: z.enum(threadStatuses),
    assigned_to: z.string().nullable(),
  })
  .openapi('ThreadMetadata')

export const Thread = z
  .object({
    thread_id: z.uuid(),
    inbox_id: z.uuid(),
    subject: z.string(),
    message_count: z.number().int(),
    last_message_at: z.string(),
    snippet: z.string().openapi({ description: "Up to 200 characters of the last message's new text." }),
    last_direction: z.enum(['inbound', 'outbound']).nullable(),
    has_attachments: z.boolean(),
    status: z.enum(threadStatuses),
    tags: z.array(z.string()),
    assigned_to: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Thread')

export const ThreadParams = idParams('Thread')

export const ThreadQuery = z.object({
  inbox_id: z.uuid().optional(),
  domain_id: z.uuid().optional().openapi({ description: 'Every inbox on this domain.' }),
  order: order('desc'),
  limit: limitParam(100, 20),
  cursor: timeCursor,
})

export const ThreadMessagesQuery = z.object({
  order: order('asc'),
  limit: limitParam(100, 50),
  cursor: timeCursor,
})

export const StatusBody = z.strictObject({ status: z.enum(threadStatuses) }).openapi('ThreadStatus')

/** A thread holds at most this many tags. */
export const maxTags = 50

const tag = z.string().trim().min(1, { message: 'A tag has 1 to 50 characters.' }).max(50, { message: 'A tag has 1 to 50 characters.' })

export const TagsBody = z.strictObject({ tags: z.array(tag).min(1).max(maxTags) }).openapi('ThreadTags')

export const AssignBody = z
  .strictObject({
    assigned_to: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .nullable()
      .openapi({ description: 'Who handles the thread (an agent or a person, in your own words); null unassigns it.' }),
  })
  .openapi('ThreadAssignment')

export const ThreadSearchQuery = z.object({
  q: z.string().trim().min(1).max(1000).openapi({ description: 'Words to find in subjects, senders and message text.' }),
  inbox_id: z.uuid().optional(),
  domain_id: z.uuid().optional(),
  limit: limitParam(100, 20),
  mode: z
    .enum(['hybrid', 'vector', 'keyword'])
    .default('hybrid')
    .openapi({
      description:
        '`hybrid` (words and meaning, fused by rank), `vector` (meaning only) or `keyword` (words only). Without an embeddings ' +
        'provider every mode runs as `keyword`, and `search_type` says so.',
    }),
})

export const ThreadMatch = Thread.extend({
  score: z
    .number()
    .min(0)
    .max(1)
    .openapi({
      description:
        "From 0 to 1, higher is better, comparable within one answer. keyword: the best matching message's rank r as r / (r + 1); " +
        "vector: the best message's cosine similarity; hybrid: the reciprocal-rank fusion of both rankings, 1 for a thread first in both.",
    }),
}).openapi('ThreadMatch')

export const ThreadSearchAnswer = z.object({
  data: z.array(ThreadMatch),
  search_type: z.enum(['hybrid', 'vector', 'keyword']).openapi({
    description:
      'What ran: `hybrid` (full text and meaning), `vector` (meaning) or `keyword` (full text: no embeddings provider, or asked for).',
  }),
})
