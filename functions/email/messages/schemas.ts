import { z } from '@hono/zod-openapi'
import { ApiError } from '../../_core/errors.ts'
import { cursorParam, limitParam } from '../../_core/schemas.ts'

export const participantRoles = ['from', 'to', 'cc', 'bcc', 'reply_to'] as const

export const EmailMessage = z
  .object({
    message_id: z.uuid(),
    thread_id: z.uuid(),
    inbox_id: z.uuid(),
    direction: z.enum(['inbound', 'outbound']),
    participants: z
      .array(z.object({ role: z.enum(participantRoles), identity: z.string() }))
      .openapi({ description: 'Everyone the message names: its sender, recipients and reply-to addresses, each with its role.' }),
    content: z.string().nullable().openapi({ description: 'The plain-text body.' }),
    content_html: z.string().nullable(),
    extracted_text: z.string().nullable().openapi({ description: 'The new content only, without quoted history or signature.' }),
    extracted_data: z.record(z.string(), z.unknown()).nullable().openapi({ description: "What the inbox's extraction schema found." }),
    attachments: z.array(z.object({ id: z.uuid(), filename: z.string(), content_type: z.string(), size: z.number().int() })),
    created_at: z.string(),
    metadata: z.object({
      subject: z.string().nullable(),
      message_id_header: z.string().nullable().openapi({ description: 'The Message-ID header, without angle brackets.' }),
      in_reply_to: z.string().nullable(),
      auth: z
        .record(z.string(), z.unknown())
        .nullable()
        .openapi({ description: 'The SPF, DKIM and DMARC verdicts of an inbound message.' }),
      spam: z
        .object({
          score: z.number(),
          verdict: z.enum(['spam', 'clean']),
          reasons: z.array(z.object({ signal: z.string(), weight: z.number(), detail: z.string() })),
        })
        .nullable()
        .openapi({ description: "An inbound message's spam verdict: its score, and each signal that counted with its weight." }),
      labels: z
        .array(z.string())
        .openapi({ description: '`spam` past the inbox’s spam threshold; `blocked` from a sender its lists block, in flag mode.' }),
      is_auto_reply: z.boolean(),
      status: z
        .string()
        .openapi({ description: '`received` inbound; `queued`, `sending`, `sent`, `delivered`, `outboxed` or `failed` outbound.' }),
    }),
  })
  .openapi('EmailMessage')

export const order = (fallback: 'asc' | 'desc') =>
  z
    .enum(['asc', 'desc'])
    .default(fallback)
    .openapi({ description: `\`asc\` (oldest first) or \`desc\` (newest first); default \`${fallback}\`.` })

/** A position in a listing by time: the row's time to the microsecond and its id. */
export const timeCursor = cursorParam(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/)

export const MessageQuery = z.object({
  inbox_id: z.uuid().optional(),
  domain_id: z.uuid().optional(),
  sender: z.string().trim().min(1).max(320).optional().openapi({ description: 'The sender address, any case.' }),
  after: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only messages created after this time.' }),
  before: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only messages created before this time.' }),
  order: order('desc'),
  limit: limitParam(100, 20),
  cursor: timeCursor,
})

/** A listing that must be narrowed: at least one of `names` given, else 400 naming them all. */
export function requireOneOf(query: Record<string, unknown>, names: string[]): void {
  if (names.some((name) => query[name] !== undefined)) return
  const message = `Give ${names.slice(0, -1).join(', ')}${names.length > 2 ? ',' : ''} or ${names[names.length - 1]}.`
  throw new ApiError('validation_failed', `Invalid request: ${message}`, { fields: names.map((field) => ({ field, message })) })
}
