import { z } from '@hono/zod-openapi'
import { cursorParam, limitParam } from '../../_core/schemas.ts'
import { hasControlCharacter, hasLineBreak, parseMailbox } from './addresses.ts'

/** Recipients per field at most; a send is one message, not a mailing. */
export const maxRecipientsPerField = 50

const mailbox = z
  .string()
  .max(998)
  .refine((s) => !hasLineBreak(s), { message: 'must not contain a line break (header injection)' })
  .refine((s) => hasLineBreak(s) || parseMailbox(s) !== null, {
    message: 'must be an email address, or "Name <address>"',
  })
  .openapi({ example: 'Ada <ada@example.com>' })

const mailboxes = z
  .union([mailbox, z.array(mailbox).min(1).max(maxRecipientsPerField)])
  .openapi({ description: `One address or a list of up to ${maxRecipientsPerField}.` })

/** The fields a send (and a draft) is made of; a send needs `to`, `subject`, and text or html. */
export const SendFields = z.object({
  to: mailboxes,
  cc: mailboxes.optional(),
  bcc: mailboxes.optional().openapi({ description: 'Sent to, never shown in the message.' }),
  reply_to: mailboxes.optional(),
  from: mailbox.optional().openapi({
    description: "The sending inbox's address, optionally with a display name; names the inbox when inbox_id is not given.",
  }),
  subject: z
    .string()
    .min(1)
    .max(998)
    .refine((s) => !hasLineBreak(s), { message: 'must not contain a line break (header injection)' })
    .refine((s) => hasLineBreak(s) || !hasControlCharacter(s), { message: 'must not contain control characters' }),
  text: z.string().max(5_000_000).optional(),
  html: z.string().max(5_000_000).optional(),
  thread_id: z.uuid().optional().openapi({ description: 'Reply in this thread: In-Reply-To and References are filled from it.' }),
  inbox_id: z.uuid().optional().openapi({ description: 'The inbox to send from.' }),
  domain_id: z
    .uuid()
    .optional()
    .openapi({ description: "Send from this domain's first inbox, when neither inbox_id nor from says which." }),
  attachments: z.array(z.uuid()).max(20).optional().openapi({ description: 'Ids of uploaded attachments (POST /attachments/upload).' }),
  send_at: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({
      description:
        'Send then instead of now (at most 30 days ahead): the message waits as `scheduled` until then; ' +
        'DELETE /messages/{id}/schedule cancels it.',
      example: '2026-12-24T09:00:00Z',
    }),
})

export const SendBody = SendFields.refine((b) => b.text !== undefined || b.html !== undefined, {
  message: 'text or html is required',
  path: ['text'],
}).openapi('SendMessage')

export type SendBody = z.infer<typeof SendBody>

export const SendResult = z
  .object({
    message_id: z.uuid(),
    thread_id: z.uuid(),
    status: z.enum(['queued', 'scheduled']),
    send_at: z.string().optional().openapi({ description: 'When a scheduled message is sent.' }),
    accepted: z.array(z.string()).openapi({ description: 'Recipients the message is queued for.' }),
    rejected: z.array(z.string()).openapi({ description: 'Recipients refused before queuing.' }),
    suppressed: z.array(z.string()).openapi({ description: 'Recipients on the suppression list (bounced or complained), not sent to.' }),
  })
  .openapi('SentMessage')

export const OutboxMessage = z
  .object({
    id: z.uuid(),
    inbox_id: z.uuid(),
    thread_id: z.uuid(),
    message_id_header: z.string(),
    from_address: z.string(),
    to_addresses: z.array(z.string()),
    cc_addresses: z.array(z.string()),
    bcc_addresses: z.array(z.string()),
    subject: z.string(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    status: z.literal('outboxed'),
    error: z.string().nullable(),
    size_bytes: z.number().int(),
    created_at: z.string(),
  })
  .openapi('OutboxMessage')

export const OutboxQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: 'Only messages sent from this inbox.' }),
  limit: limitParam(100, 20),
  cursor: cursorParam(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/),
})
