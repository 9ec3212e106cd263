// The delivery routes' reads and the one write, in the caller's transaction: RLS decides whose events and
// suppressions the caller sees (an agent key: its own inboxes').
import type { Tx } from '../../_core/db.ts'
import type { eventTypes } from './schemas.ts'

const positionOf = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id`

export interface EventRow {
  id: string
  inbox_id: string
  message_id: string
  recipient: string
  event_type: (typeof eventTypes)[number]
  detail: Record<string, unknown>
  occurred_at: string
  position: string
}

/** Newest first. */
export function listDeliveryEvents(
  tx: Tx,
  q: { inbox_id?: string; message_id?: string; event_type?: string; limit: number; cursor?: string },
) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<EventRow[]>`
    select id, inbox_id, message_id, recipient, event_type, detail, to_json(occurred_at) #>> '{}' as occurred_at,
      ${tx.unsafe(positionOf('occurred_at'))} as position
    from agentry.email_delivery_events
    where true
      ${q.inbox_id ? tx`and inbox_id = ${q.inbox_id}` : tx``}
      ${q.message_id ? tx`and message_id = ${q.message_id}` : tx``}
      ${q.event_type ? tx`and event_type = ${q.event_type}` : tx``}
      ${q.cursor ? tx`and (occurred_at, id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by occurred_at desc, id desc
    limit ${q.limit + 1}`
}

export interface MetricsWindow {
  from: string
  to: string
  counts: Partial<Record<(typeof eventTypes)[number], number>>
}

export async function countDeliveryEvents(tx: Tx, q: { inboxId?: string; days: number }): Promise<MetricsWindow> {
  const [window] = await tx<{ from: string; to: string }[]>`
    select to_json(now() - make_interval(days => ${q.days})) #>> '{}' as from, to_json(now()) #>> '{}' as to`
  const rows = await tx<{ event_type: (typeof eventTypes)[number]; n: number }[]>`
    select event_type, count(*)::int as n
    from agentry.email_delivery_events
    where occurred_at > now() - make_interval(days => ${q.days})
      ${q.inboxId ? tx`and inbox_id = ${q.inboxId}` : tx``}
    group by event_type`
  return { ...window, counts: Object.fromEntries(rows.map((r) => [r.event_type, r.n])) }
}

export interface SuppressionRow {
  id: string
  inbox_id: string
  address: string
  reason: 'hard_bounce' | 'complaint' | 'manual'
  source_event_id: string | null
  source_message_id: string | null
  created_at: string
  position: string
}

const suppressionColumns = `id, inbox_id, address, reason, source_event_id, source_message_id,
  to_json(created_at) #>> '{}' as created_at, ${positionOf('created_at')} as position`

export function listSuppressions(tx: Tx, q: { inbox_id?: string; limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<SuppressionRow[]>`
    select ${tx.unsafe(suppressionColumns)}
    from agentry.email_suppressions
    where true
      ${q.inbox_id ? tx`and inbox_id = ${q.inbox_id}` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

export async function deleteSuppression(tx: Tx, id: string): Promise<Omit<SuppressionRow, 'position'> | undefined> {
  const [row] = await tx<SuppressionRow[]>`
    delete from agentry.email_suppressions where id = ${id} returning ${tx.unsafe(suppressionColumns)}`
  if (!row) return undefined
  const { position: _, ...suppression } = row
  return suppression
}
