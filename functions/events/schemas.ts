import { z } from '@hono/zod-openapi'
import { patternMatchesSomeType } from '../webhooks/event-types.ts'
import { parsePosition, positionMessage } from './position.ts'
import type { StreamFilter } from './subscription.ts'

const typePattern = /^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/
const typesMessage =
  'Use event types (message.received), prefixes (dataset.row.*) or *, separated by commas; GET /webhooks/event-types lists them.'

/** `types` as sent: comma-separated, at most 100. */
export function typesOf(text: string | undefined): string[] | null {
  if (text === undefined) return null
  const types = [...new Set(text.split(',').map((t) => t.trim()))]
  return types.includes('*') ? null : types
}

const typesValid = (text: string) => {
  const types = text.split(',').map((t) => t.trim())
  return types.length <= 100 && types.every((t) => typePattern.test(t) && patternMatchesSomeType(t))
}

export const StreamQuery = z.object({
  types: z.string().max(4000).refine(typesValid, { message: typesMessage }).optional().openapi({
    description: 'Only these event types (comma-separated; prefixes such as `dataset.row.*`); every type unless given.',
    example: 'message.received,dataset.row.*',
  }),
  inbox_id: z.uuid().optional().openapi({ description: 'Only events of this inbox (those whose data names it).' }),
  close_after: z.coerce.number().int().min(1).max(86_400).optional().openapi({
    description:
      'End the stream after this many seconds (for hosts that cut long requests, such as Edge Functions); reconnect with Last-Event-ID.',
  }),
})

export const LastEventIdHeader = z.object({
  'last-event-id': z
    .string()
    .refine((id) => parsePosition(id) !== null, { message: positionMessage })
    .optional()
    .openapi({ description: 'The id of the last event received: the stream resumes after it.' }),
})

export function filterOf(query: { types?: string; inbox_id?: string }): StreamFilter {
  return { types: typesOf(query.types), inboxId: query.inbox_id ?? null }
}

/** A subscription frame's own checks, for the WebSocket (where zod's route validation does not reach). */
export const SubscribeFrame = z.object({
  type: z.literal('subscribe'),
  types: z
    .array(z.string().refine((t) => typePattern.test(t) && patternMatchesSomeType(t), { message: typesMessage }))
    .max(100)
    .optional(),
  inbox_id: z.uuid().optional(),
  last_event_id: z
    .string()
    .refine((id) => parsePosition(id) !== null, { message: positionMessage })
    .optional(),
})

export const UnsubscribeFrame = z.object({ type: z.literal('unsubscribe') })
