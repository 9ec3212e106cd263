// In an inbox that requires approval, an agent's reply or forward is not sent: like its sends, it is kept as a
// `pending_approval` draft (functions/email/drafts/) that an organisation key or an owner or admin sends. The draft
// holds what was composed: the recipients, the subject, the body (an inline forward's quoted block with it), the
// reply's thread, the original's attachments, and `send_at` (a held send's schedule). A forward of the whole original as message/rfc822 is not
// something a draft can hold, so it is refused with a pointer to `inline`.
import type { Principal } from '../../_core/auth.ts'
import type { Tx } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { holdForApproval } from '../drafts/operations.ts'
import type { DraftRow } from '../drafts/queries.ts'
import { heldMessage } from '../drafts/schemas.ts'
import { draftView } from '../drafts/view.ts'
import { formatMailbox, type Mailbox } from '../outbound/addresses.ts'
import { inboxRequiresApproval } from '../outbound/send-queries.ts'

export interface HeldDraft {
  held: DraftRow
}

export interface ComposedForApproval {
  to: Mailbox[]
  cc: Mailbox[]
  subject: string
  text: string | null
  html: string | null
  threadId: string | null
  attachmentIds: string[]
  sendAt: Date | null
}

/** The draft an agent's reply or forward becomes, or null when it may go now. */
export async function heldForApproval(tx: Tx, p: Principal, inboxId: string, m: ComposedForApproval): Promise<HeldDraft | null> {
  const list = (boxes: Mailbox[]) => (boxes.length ? boxes.map(formatMailbox) : undefined)
  const held = await holdForApproval(tx, p, inboxId, {
    to: list(m.to) ?? [],
    cc: list(m.cc),
    subject: m.subject,
    text: m.text ?? undefined,
    html: m.html ?? undefined,
    thread_id: m.threadId ?? undefined,
    attachments: m.attachmentIds.length ? m.attachmentIds : undefined,
    send_at: m.sendAt?.toISOString(),
  })
  return held ? { held } : null
}

/** Refuses an agent's forward of the whole original from an inbox that requires approval. */
export async function refuseEnclosedForApproval(tx: Tx, p: Principal, inboxId: string): Promise<void> {
  if (!p.agentId || !(await inboxRequiresApproval(tx, inboxId))) return
  throw new ApiError(
    'conflict',
    'The inbox requires approval, and a draft cannot hold the original as an attachment: forward with `inline: true` to keep it as a draft for approval.',
  )
}

export const heldAnswer = ({ held }: HeldDraft) => ({ data: draftView(held), message: heldMessage(held.id) })
