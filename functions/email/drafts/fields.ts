// A draft's fields and a send's body, each from the other: a draft is kept as given, and checked as a send
// only when it is sent.
import { ApiError, validationError } from '../../_core/errors.ts'
import { SendBody } from '../outbound/schemas.ts'
import type { CreateDraftBody, UpdateDraftBody } from './schemas.ts'
import type { DraftFields, DraftRow } from './queries.ts'
import { scheduledTime } from '../outbound/send-at.ts'

const list = (value: string | string[] | undefined): string[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value]

/** The stored fields of what was sent; `send_at` is checked here (past or more than 30 days ahead: 400). */
export function draftFieldsOf(body: CreateDraftBody | UpdateDraftBody): DraftFields {
  return {
    thread_id: body.thread_id,
    to_addresses: list(body.to),
    cc_addresses: list(body.cc),
    bcc_addresses: list(body.bcc),
    reply_to: list(body.reply_to),
    from_address: body.from,
    subject: body.subject,
    text: body.text,
    html: body.html,
    attachments: body.attachments,
    send_at: body.send_at === undefined ? undefined : scheduledTime(body.send_at),
  }
}

const some = (values: string[]) => (values.length ? values : undefined)

/** The send a draft makes, checked as POST /messages/send checks its body: 400 naming what it lacks. */
export function sendBodyOf(draft: DraftRow): SendBody {
  const parsed = SendBody.safeParse({
    to: some(draft.to_addresses),
    cc: some(draft.cc_addresses),
    bcc: some(draft.bcc_addresses),
    reply_to: some(draft.reply_to),
    from: draft.from_address ?? undefined,
    subject: draft.subject || undefined,
    text: draft.text ?? undefined,
    html: draft.html ?? undefined,
    thread_id: draft.thread_id ?? undefined,
    inbox_id: draft.inbox_id,
    attachments: some(draft.attachments),
  })
  if (!parsed.success) {
    const error = validationError(parsed.error)
    throw new ApiError('validation_failed', `The draft cannot be sent yet. ${error.message}`, error.details)
  }
  return parsed.data
}
