import type { Tx } from '../../_core/db.ts'

export interface OutboxRow {
  id: string
  inbox_id: string
  thread_id: string
  message_id_header: string
  from_address: string
  to_addresses: string[]
  cc_addresses: string[]
  bcc_addresses: string[]
  subject: string
  text: string | null
  html: string | null
  status: 'outboxed'
  error: string | null
  size_bytes: number
  created_at: string
  position: string
}

/** Newest first; RLS decides whose messages the caller sees (an agent key: its agent's inboxes'). */
export function listOutbox(tx: Tx, q: { limit: number; cursor?: string; inboxId?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<OutboxRow[]>`
    select m.id, m.inbox_id, m.thread_id, m.message_id_header, m.from_address, m.to_addresses, m.cc_addresses, m.bcc_addresses,
      m.subject, m.text, m.html, m.status, m.error, m.size_bytes, to_json(m.created_at) #>> '{}' as created_at,
      to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || m.id as position
    from agentry.email_messages m
    where m.direction = 'outbound' and m.status = 'outboxed'
      ${q.inboxId ? tx`and m.inbox_id = ${q.inboxId}` : tx``}
      ${q.cursor ? tx`and (m.created_at, m.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by m.created_at desc, m.id desc
    limit ${q.limit + 1}`
}

/**
 * Puts outboxed messages back in the queue, oldest first and at most `limit` of them: those named, or all the
 * caller's. RLS decides whose messages the caller may release (an agent key: its agent's inboxes'); a
 * message another release took meanwhile is no longer outboxed and is left alone.
 */
export function requeueOutboxed(tx: Tx, q: { limit: number; messageIds?: string[] }) {
  return tx<{ id: string }[]>`
    update agentry.email_messages set status = 'queued', error = null
    where id in (
      select m.id from agentry.email_messages m
      where m.direction = 'outbound' and m.status = 'outboxed'
        ${q.messageIds ? tx`and m.id = any(${q.messageIds}::uuid[])` : tx``}
      order by m.created_at, m.id
      limit ${q.limit}
      for update skip locked
    )
    returning id`
}

export async function countOutboxed(tx: Tx): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from agentry.email_messages where direction = 'outbound' and status = 'outboxed'`
  return row.n
}
