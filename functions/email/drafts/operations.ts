// What the draft routes and an approval inbox's sends do, in the caller's transaction.
import type { Principal } from '../../_core/auth.ts'
import type { Tenant, Tx } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { now } from '../../_core/clock.ts'
import { type QueuedSend, queueSend } from '../outbound/queue-send.ts'
import type { SendBody } from '../outbound/schemas.ts'
import { inboxRequiresApproval } from '../outbound/send-queries.ts'
import { approvalRequiredMessage, mayApprove } from './approval.ts'
import { draftFieldsOf, sendBodyOf } from './fields.ts'
import { type DraftFields, type DraftRow, insertDraft, markDraftSent, raiseDraftEvent, requireDraft, updateDraft } from './queries.ts'
import type { CreateDraftBody } from './schemas.ts'

const authorOf = (p: Principal) => ({ agentId: p.agentId, keyId: p.keyId, userId: p.userId })

export async function createDraft(
  tx: Tx,
  p: Principal,
  inboxId: string,
  fields: DraftFields,
  status: 'draft' | 'pending_approval' = 'draft',
): Promise<DraftRow> {
  const draft = await insertDraft(tx, { ...fields, orgId: p.orgId, inboxId, status, ...authorOf(p) }).catch(
    (error: { code?: string; constraint_name?: string }) => {
      // Another organisation's inbox or thread fails its composite foreign key; another agent's inbox, RLS.
      if (error.code === '23503' && error.constraint_name?.includes('thread')) throw notFound('Thread')
      if (error.code === '23503' || error.code === '42501') throw notFound('Inbox')
      throw error
    },
  )
  await raiseDraftEvent(tx, draft, 'draft.created')
  return draft
}

/** An agent's send from an inbox that requires approval: kept as a `pending_approval` draft, or null to send it. */
export async function holdForApproval(tx: Tx, p: Principal, inboxId: string, body: SendBody): Promise<DraftRow | null> {
  if (!p.agentId || !(await inboxRequiresApproval(tx, inboxId))) return null
  const { inbox_id: _, domain_id: __, ...fields } = body
  return createDraft(tx, p, inboxId, draftFieldsOf(fields as CreateDraftBody), 'pending_approval')
}

export type DraftSendOutcome = { held: DraftRow } | { sent: DraftRow; queued: QueuedSend }

/**
 * Sends the draft through the normal send path. A draft held for approval goes only for an organisation
 * credential that may approve; an agent's plain draft in an inbox that requires approval is held instead.
 */
export async function sendDraft(tx: Tx, tenant: Tenant, p: Principal, id: string): Promise<DraftSendOutcome> {
  const draft = await requireDraft(tx, id, { lock: true })
  if (draft.status === 'sent') throw new ApiError('conflict', `The draft was sent already, as message ${draft.message_id}.`)
  if (draft.status === 'pending_approval' && !mayApprove(p)) throw new ApiError('insufficient_scope', approvalRequiredMessage)
  if (draft.status === 'draft' && p.agentId && (await inboxRequiresApproval(tx, draft.inbox_id))) {
    const held = await updateDraft(tx, draft.id, { status: 'pending_approval' })
    return { held }
  }
  const body = sendBodyOf(draft)
  // A time that passed while the draft waited means now.
  const sendAt = draft.send_at && new Date(draft.send_at).getTime() > now() ? new Date(draft.send_at) : null
  const queued = await queueSend(tx, tenant, body, { sendAt })
  const sent = await markDraftSent(tx, draft.id, {
    messageId: queued.result.message_id,
    threadId: queued.result.thread_id,
    keyId: p.keyId,
    userId: p.userId,
  })
  await raiseDraftEvent(tx, sent, 'draft.sent')
  return { sent, queued }
}
