// The drafts' SQL, in the caller's tenant transaction: RLS keeps an agent key to its own inboxes' drafts.
import type { Tx } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'

export interface DraftRow {
  id: string
  inbox_id: string
  thread_id: string | null
  status: 'draft' | 'pending_approval' | 'sent'
  to_addresses: string[]
  cc_addresses: string[]
  bcc_addresses: string[]
  reply_to: string[]
  from_address: string | null
  subject: string
  text: string | null
  html: string | null
  attachments: string[]
  send_at: string | null
  agent_id: string | null
  message_id: string | null
  sent_at: string | null
  created_at: string
  updated_at: string
}

const iso = (tx: Tx, column: string) => tx`to_json(${tx(column)}) #>> '{}'`

const draftColumns = (tx: Tx) => tx`
  id, inbox_id, thread_id, status, to_addresses, cc_addresses, bcc_addresses, reply_to, from_address, subject, text, html,
  attachments, ${iso(tx, 'send_at')} as send_at, agent_id, message_id, ${iso(tx, 'sent_at')} as sent_at,
  ${iso(tx, 'created_at')} as created_at, ${iso(tx, 'updated_at')} as updated_at`

/** A draft's fields as stored: the send's, each list a list. */
export interface DraftFields {
  thread_id?: string | null
  to_addresses?: string[]
  cc_addresses?: string[]
  bcc_addresses?: string[]
  reply_to?: string[]
  from_address?: string | null
  subject?: string
  text?: string | null
  html?: string | null
  attachments?: string[]
  send_at?: Date | null
}

export async function insertDraft(
  tx: Tx,
  d: DraftFields & {
    orgId: string
    inboxId: string
    status: 'draft' | 'pending_approval'
    agentId: string | null
    keyId: string | null
    userId: string | null
  },
): Promise<DraftRow> {
  const [row] = await tx<DraftRow[]>`
    insert into agentry.email_drafts (org_id, inbox_id, thread_id, status, to_addresses, cc_addresses, bcc_addresses, reply_to,
      from_address, subject, text, html, attachments, send_at, agent_id, key_id, user_id)
    values (${d.orgId}, ${d.inboxId}, ${d.thread_id ?? null}, ${d.status}, ${d.to_addresses ?? []}, ${d.cc_addresses ?? []},
      ${d.bcc_addresses ?? []}, ${d.reply_to ?? []}, ${d.from_address ?? null}, ${d.subject ?? ''}, ${d.text ?? null},
      ${d.html ?? null}, ${d.attachments ?? []}::uuid[], ${d.send_at ?? null}, ${d.agentId}, ${d.keyId}, ${d.userId})
    returning ${draftColumns(tx)}`
  return row
}

export async function requireDraft(tx: Tx, id: string, options: { lock?: boolean } = {}): Promise<DraftRow> {
  const [row] = await tx<DraftRow[]>`
    select ${draftColumns(tx)} from agentry.email_drafts where id = ${id} ${options.lock ? tx`for update` : tx``}`
  if (!row) throw notFound('Draft')
  return row
}

export function listDrafts(tx: Tx, q: { inboxId?: string; status?: string; limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(DraftRow & { position: string })[]>`
    select ${draftColumns(tx)},
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id as position
    from agentry.email_drafts
    where true ${q.inboxId ? tx`and inbox_id = ${q.inboxId}` : tx``} ${q.status ? tx`and status = ${q.status}` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

export async function updateDraft(tx: Tx, id: string, changes: DraftFields & { status?: DraftRow['status'] }): Promise<DraftRow> {
  const set: Record<string, unknown> = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined))
  if (Object.keys(set).length === 0) return requireDraft(tx, id)
  const [row] = await tx<DraftRow[]>`
    update agentry.email_drafts set ${tx(set, ...(Object.keys(set) as never[]))}, updated_at = now() where id = ${id}
    returning ${draftColumns(tx)}`
  if (!row) throw notFound('Draft')
  return row
}

export async function markDraftSent(
  tx: Tx,
  id: string,
  sent: { messageId: string; threadId: string; keyId: string | null; userId: string | null },
): Promise<DraftRow> {
  const [row] = await tx<DraftRow[]>`
    update agentry.email_drafts
    set status = 'sent', message_id = ${sent.messageId}, thread_id = ${sent.threadId}, sent_by_key_id = ${sent.keyId},
      sent_by_user_id = ${sent.userId}, sent_at = now(), updated_at = now()
    where id = ${id}
    returning ${draftColumns(tx)}`
  return row
}

export async function deleteDraft(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx`delete from agentry.email_drafts where id = ${id} returning id`
  return rows.length === 1
}

/** draft.created or draft.sent, for the draft's organisation and its inbox's agent. */
export async function raiseDraftEvent(tx: Tx, draft: DraftRow, type: 'draft.created' | 'draft.sent'): Promise<void> {
  const data = {
    draft_id: draft.id,
    inbox_id: draft.inbox_id,
    thread_id: draft.thread_id,
    status: draft.status,
    subject: draft.subject,
    message_id: draft.message_id,
  }
  await tx`select agentry.raise_draft_event(${draft.id}, ${type}, ${tx.json(data as never)})`
}
