import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../../_core/schemas.ts'
import { SendFields } from '../outbound/schemas.ts'

export const draftStatuses = ['draft', 'pending_approval', 'sent'] as const

/** A draft takes a send's fields, each optional until it is sent; its inbox is the path's. */
export const CreateDraftBody = SendFields.omit({ inbox_id: true, domain_id: true }).partial().strict().openapi('CreateDraft')
export type CreateDraftBody = z.infer<typeof CreateDraftBody>

export const UpdateDraftBody = CreateDraftBody.extend({
  send_at: CreateDraftBody.shape.send_at.unwrap().nullable().optional().openapi({ description: 'null sends it at once when sent.' }),
})
  .strict()
  .openapi('UpdateDraft')
export type UpdateDraftBody = z.infer<typeof UpdateDraftBody>

export const Draft = z
  .object({
    id: z.uuid(),
    inbox_id: z.uuid(),
    thread_id: z.uuid().nullable().openapi({ description: 'The thread it replies in; once sent, the thread its message is in.' }),
    status: z.enum(draftStatuses).openapi({
      description:
        "`draft`; `pending_approval` (an agent's send from an inbox that requires approval, waiting for an organisation credential); `sent`.",
    }),
    to: z.array(z.string()),
    cc: z.array(z.string()),
    bcc: z.array(z.string()),
    reply_to: z.array(z.string()),
    from: z.string().nullable(),
    subject: z.string(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    attachments: z.array(z.uuid()),
    send_at: z.string().nullable(),
    agent_id: z.uuid().nullable().openapi({ description: 'The agent whose key wrote it, if one did.' }),
    message_id: z.uuid().nullable().openapi({ description: 'The message it became, once sent.' }),
    sent_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Draft')

export const DraftParams = idParams('Draft')

export const DraftQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: 'Only drafts of this inbox.' }),
  status: z.enum(draftStatuses).optional().openapi({ description: 'Only drafts with this status (`pending_approval`: those to approve).' }),
  limit: limitParam(100, 20),
  cursor: cursorParam(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/),
})

/** What a send answers when the inbox holds it for approval: the draft it became, and a sentence saying so. */
export const HeldForApproval = z
  .object({
    data: Draft,
    message: z.string().openapi({ example: 'The inbox requires approval: the message is kept as draft 3f1c… until it is approved.' }),
  })
  .openapi('HeldForApproval')

export const heldMessage = (draftId: string) =>
  `The inbox requires approval: nothing was sent; the message waits as draft ${draftId} (status pending_approval) until an ` +
  'organisation key with drafts:approve or an owner or admin sends it with POST /drafts/{id}/send.'
