// The send's SQL, in the caller's tenant transaction: RLS and the security-definer functions of
// sql/20261130000022_email_sending.sql decide what it reaches.
import { databaseNow } from '../../_core/clock.ts'
import type { Tx } from '../../_core/db.ts'

export interface SendingInbox {
  id: string
  domain_id: string | null
  domain: string
  address: string
  name: string | null
  status: 'active' | 'disabled'
}

export async function findSendingInbox(
  tx: Tx,
  by: { inboxId?: string; address?: string; domainId?: string },
): Promise<SendingInbox | undefined> {
  const [row] = await tx<SendingInbox[]>`
    select id, domain_id, domain, address, name, status
    from agentry.email_sending_inbox(${by.inboxId ?? null}, ${by.address ?? null}, ${by.domainId ?? null})`
  return row
}

export interface ReplyContext {
  inbox_id: string
  subject: string
  /** The thread's last message's Message-ID and the References chain up to it, when the thread has messages. */
  last_message_id: string | null
  last_references: string[]
}

export async function findReplyContext(tx: Tx, threadId: string): Promise<ReplyContext | undefined> {
  const [row] = await tx<ReplyContext[]>`
    select t.inbox_id, t.subject, m.message_id_header as last_message_id, coalesce(m."references", '{}') as last_references
    from agentry.email_threads t
    left join lateral (
      select message_id_header, "references" from agentry.email_messages
      where thread_id = t.id order by created_at desc, id desc limit 1
    ) m on true
    where t.id = ${threadId}`
  return row
}

export async function insertThread(tx: Tx, orgId: string, inboxId: string, subject: string, baseSubject: string): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject, base_subject)
    values (${orgId}, ${inboxId}, ${subject}, ${baseSubject})
    returning id`
  return row.id
}

export interface QueuedMessage {
  orgId: string
  inboxId: string
  threadId: string
  messageIdHeader: string
  inReplyTo: string | null
  references: string[]
  from: { address: string; name: string | null }
  to: string[]
  cc: string[]
  bcc: string[]
  replyTo: string[]
  subject: string
  text: string | null
  html: string | null
  /** A scheduled message waits as `scheduled` until then. */
  sendAt?: Date | null
}

export async function insertQueuedMessage(tx: Tx, m: QueuedMessage): Promise<{ id: string; created_at: Date }> {
  const [row] = await tx<{ id: string; created_at: Date }[]>`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, in_reply_to, "references",
      from_address, from_name, to_addresses, cc_addresses, bcc_addresses, reply_to, subject, text, html, extracted_text, status,
      send_at)
    values (${m.orgId}, ${m.inboxId}, ${m.threadId}, 'outbound', ${m.messageIdHeader}, ${m.inReplyTo}, ${m.references},
      ${m.from.address}, ${m.from.name}, ${m.to}, ${m.cc}, ${m.bcc}, ${m.replyTo}, ${m.subject}, ${m.text}, ${m.html},
      ${m.text}, ${m.sendAt ? 'scheduled' : 'queued'}, ${m.sendAt ?? null})
    returning id, created_at`
  return row
}

export interface AttachmentToSend {
  id: string
  filename: string
  content_type: string
  content: Uint8Array
  content_id: string | null
}

/** Gives the named uploads to the message (copies of those already sent with another) and returns them. */
export function attachAttachments(tx: Tx, messageId: string, ids: string[]): Promise<AttachmentToSend[]> {
  return tx<AttachmentToSend[]>`
    select id, filename, content_type, content, content_id from agentry.attach_email_attachments(${messageId}, ${ids}::uuid[])`
}

export async function storeRaw(tx: Tx, messageId: string, raw: Uint8Array): Promise<void> {
  await tx`update agentry.email_messages set raw = ${raw}, size_bytes = ${raw.byteLength} where id = ${messageId}`
}

/**
 * The thread's summary after a message left it: counts, the last direction and snippet, participants.
 * Participants are the thread's own plus this message's, lower-cased. An open thread, or one that needed a
 * reply, now waits for the other side: the agent has answered once the message is queued, whatever its
 * delivery later does. A closed thread stays closed (a last word sent after closing it).
 */
export async function recordOutboundInThread(
  tx: Tx,
  threadId: string,
  m: { at: Date; snippet: string; participants: string[]; hasAttachments: boolean },
): Promise<void> {
  await tx`
    update agentry.email_threads set
      message_count = message_count + 1,
      last_message_at = ${m.at},
      last_direction = 'outbound',
      status = case when status in ('open', 'needs_reply') then 'waiting' else status end,
      snippet = ${m.snippet},
      has_attachments = has_attachments or ${m.hasAttachments},
      participants = array(select distinct unnest(participants || ${m.participants}::text[]))
    where id = ${threadId}`
}

export interface SendAllowance {
  allowed: boolean
  hour_limit: number
  hour_remaining: number
  hour_reset: Date
  day_limit: number
  day_remaining: number
  day_reset: Date
}

/** Whether the caller's sends from this inbox wait for approval (the inbox's `requires_approval`). */
export async function inboxRequiresApproval(tx: Tx, inboxId: string): Promise<boolean> {
  const [row] = await tx<{ required: boolean }[]>`select agentry.email_inbox_requires_approval(${inboxId}) as required`
  return row.required
}

/** Cancels a scheduled message: its job then finds nothing to send. Undefined when there is no such message. */
export async function cancelScheduled(tx: Tx, messageId: string): Promise<{ id: string; status: string; cancelled: boolean } | undefined> {
  const [row] = await tx<{ id: string; status: string; cancelled: boolean }[]>`
    with cancelled as (
      update agentry.email_messages set status = 'cancelled'
      where id = ${messageId} and direction = 'outbound' and status = 'scheduled'
      returning id, status)
    select id, status, true as cancelled from cancelled
    union all
    select id, status, false from agentry.email_messages
    where id = ${messageId} and direction = 'outbound' and not exists (select 1 from cancelled)`
  return row
}

/** Takes one send from the organisation's hourly and daily allowance (none when either is spent). */
export async function takeSendAllowance(tx: Tx): Promise<SendAllowance> {
  const [row] = await tx<SendAllowance[]>`select * from agentry.take_email_send(${databaseNow()})`
  return row
}
