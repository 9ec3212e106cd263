// The message a reply or forward starts from, read in the caller's transaction: RLS keeps an agent key to
// its agent's inboxes and every credential to its organisation, so another's message is simply not found.
import type { Tx } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'

export interface OriginalMessage {
  id: string
  inbox_id: string
  thread_id: string
  direction: 'inbound' | 'outbound'
  message_id_header: string | null
  references: string[]
  from_address: string | null
  from_name: string | null
  to_addresses: string[]
  cc_addresses: string[]
  reply_to: string[]
  subject: string | null
  text: string | null
  html: string | null
  created_at: Date
  raw: Uint8Array | null
  attachment_ids: string[]
}

export async function findOriginal(tx: Tx, id: string): Promise<OriginalMessage | undefined> {
  const [row] = await tx<OriginalMessage[]>`
    select m.id, m.inbox_id, m.thread_id, m.direction, m.message_id_header, coalesce(m."references", '{}') as "references",
      m.from_address, m.from_name, coalesce(m.to_addresses, '{}') as to_addresses, coalesce(m.cc_addresses, '{}') as cc_addresses,
      coalesce(m.reply_to, '{}') as reply_to, m.subject, m.text, m.html, m.created_at, m.raw,
      array(select a.id from agentry.email_attachment_summaries(m.id) a order by a.created_at, a.id) as attachment_ids
    from agentry.email_messages m
    where m.id = ${id}`
  return row
}

/** Whether the caller can reach the message: what a retried request must still be able to do. */
export async function requireOriginal(tx: Tx, id: string): Promise<void> {
  const [row] = await tx`select 1 from agentry.email_messages where id = ${id}`
  if (!row) throw notFound('Message')
}
