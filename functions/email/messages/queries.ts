import type { Tx } from '../../_core/db.ts'
import type { SpamVerdict } from '../inbound/spam.ts'

/** A message as stored, with its attachments' summaries and its place in a listing. */
export interface MessageRow {
  message_id: string
  thread_id: string
  inbox_id: string
  direction: 'inbound' | 'outbound'
  from_address: string | null
  to_addresses: string[] | null
  cc_addresses: string[] | null
  bcc_addresses: string[] | null
  reply_to: string[] | null
  text: string | null
  html: string | null
  extracted_text: string | null
  extracted_data: Record<string, unknown> | null
  attachments: { id: string; filename: string; content_type: string; size: number }[]
  created_at: string
  subject: string | null
  message_id_header: string | null
  in_reply_to: string | null
  auth: Record<string, unknown> | null
  spam: SpamVerdict | null
  labels: string[]
  is_auto_reply: boolean
  status: string
  position: string
}

/** The listing's position of a row: its time to the microsecond, then its id, so equal times keep an order. */
export const timePosition = (tx: Tx, column: string, alias: string) =>
  tx.unsafe(`to_char(${alias}.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || ${alias}.id`)

/** After (or, newest first, before) the cursor's position. */
export function afterCursor(tx: Tx, column: string, alias: string, cursor: string | undefined, order: 'asc' | 'desc') {
  if (!cursor) return tx``
  const [at, id] = cursor.split('_')
  return order === 'asc'
    ? tx`and (${tx.unsafe(`${alias}.${column}`)}, ${tx.unsafe(`${alias}.id`)}) > (${at}::timestamptz, ${id}::uuid)`
    : tx`and (${tx.unsafe(`${alias}.${column}`)}, ${tx.unsafe(`${alias}.id`)}) < (${at}::timestamptz, ${id}::uuid)`
}

/**
 * A message's columns, from `agentry.email_messages m`. Attachments are summarised through
 * agentry.email_attachment_summaries, which shows a message's attachment names to whoever may read the message
 * (a key reading threads need not hold attachments:read to see what a message carries; the content stays
 * behind attachments:read).
 */
export const messageColumns = (tx: Tx) => tx`
  m.id as message_id, m.thread_id, m.inbox_id, m.direction, m.from_address, m.to_addresses, m.cc_addresses,
  m.bcc_addresses, m.reply_to, m.text, m.html, m.extracted_text, m.extracted_data,
  coalesce((select json_agg(json_build_object('id', a.id, 'filename', a.filename, 'content_type', a.content_type,
    'size', a.size_bytes) order by a.created_at, a.id) from agentry.email_attachment_summaries(m.id) a), '[]') as attachments,
  to_json(m.created_at) #>> '{}' as created_at, m.subject, m.message_id_header, m.in_reply_to, m.auth, m.spam, m.labels, m.is_auto_reply, m.status,
  ${timePosition(tx, 'created_at', 'm')} as position`

/** A stored message as the API shows it. */
export function messageOf(row: MessageRow) {
  const participants = [
    ...(row.from_address ? [{ role: 'from' as const, identity: row.from_address }] : []),
    ...(row.to_addresses ?? []).map((identity) => ({ role: 'to' as const, identity })),
    ...(row.cc_addresses ?? []).map((identity) => ({ role: 'cc' as const, identity })),
    ...(row.bcc_addresses ?? []).map((identity) => ({ role: 'bcc' as const, identity })),
    ...(row.reply_to ?? []).map((identity) => ({ role: 'reply_to' as const, identity })),
  ]
  return {
    message_id: row.message_id,
    thread_id: row.thread_id,
    inbox_id: row.inbox_id,
    direction: row.direction,
    participants,
    content: row.text,
    content_html: row.html,
    extracted_text: row.extracted_text,
    extracted_data: row.extracted_data,
    attachments: row.attachments,
    created_at: row.created_at,
    metadata: {
      subject: row.subject,
      message_id_header: row.message_id_header,
      in_reply_to: row.in_reply_to,
      auth: row.auth,
      spam: row.spam,
      labels: row.labels,
      is_auto_reply: row.is_auto_reply,
      status: row.status,
    },
    position: row.position,
  }
}

/**
 * The inboxes a listing covers: the one named, or every inbox on the domain named, within the caller's
 * organisation (agentry.email_domain_inboxes: a key reading threads or messages may not hold inboxes:read).
 */
export const inboxFilter = (tx: Tx, alias: string, q: { inbox_id?: string; domain_id?: string }) => tx`
  ${q.inbox_id ? tx`and ${tx.unsafe(alias)}.inbox_id = ${q.inbox_id}` : tx``}
  ${q.domain_id ? tx`and ${tx.unsafe(alias)}.inbox_id in (select agentry.email_domain_inboxes(${q.domain_id}))` : tx``}`

export async function listMessages(
  tx: Tx,
  q: {
    inbox_id?: string
    domain_id?: string
    sender?: string
    after?: string
    before?: string
    order: 'asc' | 'desc'
    limit: number
    cursor?: string
  },
): Promise<MessageRow[]> {
  return tx<MessageRow[]>`
    select ${messageColumns(tx)}
    from agentry.email_messages m
    where true ${inboxFilter(tx, 'm', q)}
      ${q.sender ? tx`and m.from_address = ${q.sender.toLowerCase()}` : tx``}
      ${q.after ? tx`and m.created_at > ${q.after}::timestamptz` : tx``}
      ${q.before ? tx`and m.created_at < ${q.before}::timestamptz` : tx``}
      ${afterCursor(tx, 'created_at', 'm', q.cursor, q.order)}
    order by m.created_at ${q.order === 'asc' ? tx`asc` : tx`desc`}, m.id ${q.order === 'asc' ? tx`asc` : tx`desc`}
    limit ${q.limit + 1}`
}

export async function listThreadMessages(
  tx: Tx,
  threadId: string,
  q: { order: 'asc' | 'desc'; limit: number; cursor?: string },
): Promise<MessageRow[]> {
  return tx<MessageRow[]>`
    select ${messageColumns(tx)}
    from agentry.email_messages m
    where m.thread_id = ${threadId} ${afterCursor(tx, 'created_at', 'm', q.cursor, q.order)}
    order by m.created_at ${q.order === 'asc' ? tx`asc` : tx`desc`}, m.id ${q.order === 'asc' ? tx`asc` : tx`desc`}
    limit ${q.limit + 1}`
}
