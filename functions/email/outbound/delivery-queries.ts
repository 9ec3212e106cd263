// The sending job's SQL, on the service connection: every statement names the job's organisation.
import type { Db, Sql } from '../../_core/db.ts'

export interface MessageToDeliver {
  id: string
  inbox_id: string
  thread_id: string
  status: string
  raw: Uint8Array | null
  from_address: string
  recipients: string[]
  subject: string
  message_id_header: string
  domain: string
  /** Null on the shared domain. */
  domain_id: string | null
  /** Set when the inbox's own domain is verified: its DKIM key signs what leaves. */
  dkim_selector: string | null
  dkim_private_key: string | null
}

export async function findMessageToDeliver(sql: Sql, orgId: string, messageId: string): Promise<MessageToDeliver | undefined> {
  const [row] = await sql<MessageToDeliver[]>`
    select m.id, m.inbox_id, m.thread_id, m.status, m.raw, m.from_address, m.subject, m.message_id_header, i.domain, i.domain_id,
      array(select distinct lower(a) from unnest(m.to_addresses || m.cc_addresses || m.bcc_addresses) a) as recipients,
      d.dkim_selector, d.dkim_private_key
    from agentry.email_messages m
    join agentry.email_inboxes i on i.id = m.inbox_id and i.org_id = m.org_id
    left join agentry.email_domains d on d.id = i.domain_id and d.org_id = m.org_id and d.status = 'verified'
    where m.id = ${messageId} and m.org_id = ${orgId} and m.direction = 'outbound'`
  return row
}

/** Claims the message for this attempt: false once it has left (a repeated job does nothing). */
export async function startSending(sql: Sql, orgId: string, messageId: string): Promise<boolean> {
  const rows = await sql`
    update agentry.email_messages set status = 'sending'
    where id = ${messageId} and org_id = ${orgId} and status in ('queued', 'scheduled', 'sending')
    returning id`
  return rows.length === 1
}

export type Outcome = 'sent' | 'delivered' | 'outboxed'

export async function finishSending(
  db: Db,
  orgId: string,
  messageId: string,
  outcome: Outcome,
  error: string | null,
): Promise<Date | null> {
  const [row] = await db<{ sent_at: Date | null }[]>`
    update agentry.email_messages
    set status = ${outcome}, error = ${error}, sent_at = case when ${outcome} = 'outboxed' then null else now() end
    where id = ${messageId} and org_id = ${orgId} and status = 'sending'
    returning sent_at`
  return row ? row.sent_at : null
}

export async function failSending(sql: Sql, orgId: string, messageId: string, error: string): Promise<void> {
  await sql`
    update agentry.email_messages set status = 'failed', error = ${error}
    where id = ${messageId} and org_id = ${orgId} and status in ('queued', 'scheduled', 'sending')`
}

export async function emitMessageEvent(db: Db, orgId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await db`
    insert into agentry.events (org_id, type, data)
    select ${orgId}, ${type}, ${db.json(data as never)}
    where ${orgId}::uuid in (select agentry.orgs_listening(${type}))`
}
