// Delivery events and suppressions as the sending job and the inbound path write them, on the service
// connection: every statement names the organisation. An event of one kind is kept once per message and
// recipient, so a retried job or a report that arrives twice adds nothing. Events take the clock's time (the
// column's default), not the transaction's: `sent` and `bounced` written together keep their order.
import type { Db } from '../../_core/db.ts'

export type DeliveryEventType = 'sent' | 'delivered' | 'bounced' | 'complained' | 'failed' | 'suppressed'

export interface DeliveryEvent {
  orgId: string
  inboxId: string
  messageId: string
  recipient: string
  type: DeliveryEventType
  detail?: Record<string, unknown>
}

/** The new event's id, or null when the message already had this event for this recipient. */
export async function recordDeliveryEvent(db: Db, e: DeliveryEvent): Promise<string | null> {
  const recipient = e.recipient.toLowerCase()
  const [row] = await db<{ id: string }[]>`
    insert into agentry.email_delivery_events (org_id, inbox_id, message_id, recipient, event_type, detail)
    select ${e.orgId}, ${e.inboxId}, ${e.messageId}, ${recipient}, ${e.type}, ${db.json((e.detail ?? {}) as never)}
    where not exists (
      select from agentry.email_delivery_events
      where message_id = ${e.messageId} and recipient = ${recipient} and event_type = ${e.type})
    returning id::text`
  return row?.id ?? null
}

export interface Suppression {
  orgId: string
  inboxId: string
  address: string
  reason: 'hard_bounce' | 'complaint'
  eventId: string | null
  messageId: string | null
}

/** Adds the address to the inbox's suppression list; an address already there keeps its first reason. */
export async function suppress(db: Db, s: Suppression): Promise<void> {
  await db`
    insert into agentry.email_suppressions (org_id, inbox_id, address, reason, source_event_id, source_message_id)
    values (${s.orgId}, ${s.inboxId}, ${s.address.toLowerCase()}, ${s.reason}, ${s.eventId}, ${s.messageId})
    on conflict (inbox_id, address) do nothing`
}

/** A `message.*` event for the inbox's organisation (and its agent), written only when an endpoint listens for it. */
export async function raiseMessageEvent(db: Db, orgId: string, inboxId: string, type: string, data: Record<string, unknown>) {
  await db`
    insert into agentry.events (org_id, agent_id, type, data)
    select ${orgId}, i.agent_id, ${type}, ${db.json({ inbox_id: inboxId, ...data } as never)}
    from agentry.email_inboxes i
    where i.id = ${inboxId} and i.org_id = ${orgId} and ${orgId}::uuid in (select agentry.orgs_listening(${type}))`
}

export interface Refusal {
  orgId: string
  inboxId: string
  messageId: string
  recipient: string
  /** A permanent refusal (SMTP 5xx, DSN status 5.x.x) puts the address on the suppression list. */
  permanent: boolean
  detail: Record<string, unknown>
}

/** A recipient's mail came back: `bounced`, `message.bounced`, and for a permanent failure a hard-bounce suppression. */
export async function recordBounce(db: Db, r: Refusal): Promise<void> {
  const eventId = await recordDeliveryEvent(db, { ...r, type: 'bounced' })
  if (!eventId) return
  if (r.permanent) {
    await suppress(db, { orgId: r.orgId, inboxId: r.inboxId, address: r.recipient, reason: 'hard_bounce', eventId, messageId: r.messageId })
  }
  await raiseMessageEvent(db, r.orgId, r.inboxId, 'message.bounced', {
    message_id: r.messageId,
    recipient: r.recipient.toLowerCase(),
    permanent: r.permanent,
    detail: r.detail,
  })
}

/** A recipient reported the message as unwanted: `complained`, `message.complained` and a complaint suppression. */
export async function recordComplaint(db: Db, c: Omit<Refusal, 'permanent'>): Promise<void> {
  const eventId = await recordDeliveryEvent(db, { ...c, type: 'complained' })
  if (!eventId) return
  await suppress(db, { orgId: c.orgId, inboxId: c.inboxId, address: c.recipient, reason: 'complaint', eventId, messageId: c.messageId })
  await raiseMessageEvent(db, c.orgId, c.inboxId, 'message.complained', {
    message_id: c.messageId,
    recipient: c.recipient.toLowerCase(),
    detail: c.detail,
  })
}

/** Recipients of the message with an event of one of these kinds already. */
export async function recipientsWith(db: Db, orgId: string, messageId: string, types: DeliveryEventType[]): Promise<Set<string>> {
  const rows = await db<{ recipient: string }[]>`
    select distinct recipient from agentry.email_delivery_events
    where org_id = ${orgId} and message_id = ${messageId} and event_type = any(${types}::text[])`
  return new Set(rows.map((r) => r.recipient))
}
