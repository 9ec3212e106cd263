import type { Tx } from '../_core/db.ts'
import type { StreamPosition } from './position.ts'

/** One event as streams send it: the webhook envelope's JSON text, sent as is to every subscriber. */
export interface StreamedEvent {
  position: StreamPosition
  /** `<tx>-<seq>` */
  id: string
  type: string
  inboxId: string | null
  /** `{ id, type, created_at, org_id, data }`, as webhooks deliver it. */
  body: string
  /** The event as one Server-Sent Event, encoded once for every stream that sends it. */
  frame: Uint8Array
}

const encoder = new TextEncoder()

interface EventRow {
  tx: string
  seq: string
  type: string
  inbox_id: string | null
  body: string
  settled: boolean
  running: string
}

/**
 * The caller's events after `after`, in stream order, up to the first one a transaction still running could
 * yet come before (see the migration 20261130000039_event_stream.sql). `held` says whether events were left
 * for that reason: read again shortly, as no notification comes when that older transaction ends. At most
 * `limit` events and about `budget` bytes of them: no subscriber takes in more than its backlog at once, and
 * one far behind is read for in steps of that size, not in ones it would mostly leave.
 */
export async function eventsAfter(
  tx: Tx,
  orgId: string,
  after: StreamPosition,
  limit: number,
  budget: number,
): Promise<{ events: StreamedEvent[]; held: boolean; more: boolean }> {
  const rows = await tx<EventRow[]>`
    select e.tx::text as tx, e.seq::text as seq, e.type, e.data ->> 'inbox_id' as inbox_id, e.running::text as running,
      (select row_to_json(envelope) from (select e.id, e.type, e.created_at, e.org_id, e.data) as envelope)::text as body,
      e.tx < pg_snapshot_xmin(pg_current_snapshot()) as settled
    from (
      select e.*, sum(pg_column_size(e.data)) over (order by e.tx, e.seq) as running, pg_column_size(e.data) as size
      from (
        select e.* from agentry.events e
        where e.org_id = ${orgId} and e.endpoint_id is null
          and (e.tx, e.seq) > (${after.tx.toString()}::xid8, ${after.seq.toString()}::bigint)
        order by e.tx, e.seq
        limit ${limit}
      ) e
    ) e
    where e.running - e.size < ${budget}
    order by e.tx, e.seq`
  const events: StreamedEvent[] = []
  for (const row of rows) {
    if (!row.settled) return { events, held: true, more: false }
    const position = { tx: BigInt(row.tx), seq: BigInt(row.seq) }
    const id = `${row.tx}-${row.seq}`
    // JSON text holds no line break, so the body is one `data:` line.
    const frame = encoder.encode(`event: ${row.type}\nid: ${id}\ndata: ${row.body}\n\n`)
    events.push({ position, id, type: row.type, inboxId: row.inbox_id, body: row.body, frame })
  }
  const last = rows.at(-1)
  return { events, held: false, more: rows.length === limit || (last !== undefined && Number(last.running) >= budget) }
}

/**
 * Where a stream opened now starts: at the oldest transaction still running, so that nothing committed
 * after this moment is missed (an event committed just before may come too).
 */
export async function currentPosition(tx: Tx): Promise<StreamPosition> {
  const [row] = await tx<{ tx: string }[]>`select pg_snapshot_xmin(pg_current_snapshot())::text as tx`
  return { tx: BigInt(row.tx), seq: 0n }
}

/** Producers raise `types` for the caller's organisation while this process says so (see the migration). */
export async function listenFor(tx: Tx, processId: string, types: string[], seconds: number): Promise<void> {
  await tx`select agentry.listen_for_events(${processId}::uuid, ${types}::text[], ${seconds})`
}
