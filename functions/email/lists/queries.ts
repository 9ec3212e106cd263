// The list routes' reads and writes, in the caller's transaction: RLS keeps them to the caller's
// organisation, and an agent key to its own inboxes' lists (it may read the organisation's).
import type { Tx } from '../../_core/db.ts'

export interface EntryRow {
  id: string
  inbox_id: string | null
  list: 'allow' | 'block'
  entry: string
  kind: 'address' | 'domain'
  created_at: string
  position: string
}

const columns = `id, inbox_id, list, entry, kind, to_json(created_at) #>> '{}' as created_at,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id as position`

/** Whether the caller reaches this inbox. */
export async function inboxExists(tx: Tx, inboxId: string): Promise<boolean> {
  return (await tx`select 1 from agentry.email_inboxes where id = ${inboxId}`).length > 0
}

/** Newest first; inboxId null for the organisation's list. */
export function listEntries(tx: Tx, inboxId: string | null, q: { list?: string; limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<EntryRow[]>`
    select ${tx.unsafe(columns)} from agentry.email_sender_lists
    where ${inboxId ? tx`inbox_id = ${inboxId}` : tx`inbox_id is null`}
      ${q.list ? tx`and list = ${q.list}` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

/** The entry, new or the one already there (adding twice is no error). */
export async function addEntry(
  tx: Tx,
  orgId: string,
  inboxId: string | null,
  list: string,
  entry: string,
): Promise<{ row: EntryRow; created: boolean }> {
  const [existing] = await tx<EntryRow[]>`
    select ${tx.unsafe(columns)} from agentry.email_sender_lists
    where list = ${list} and entry = ${entry} and ${inboxId ? tx`inbox_id = ${inboxId}` : tx`inbox_id is null`}`
  if (existing) return { row: existing, created: false }
  const [added] = await tx<EntryRow[]>`
    insert into agentry.email_sender_lists (org_id, inbox_id, list, entry) values (${orgId}, ${inboxId}, ${list}, ${entry})
    returning ${tx.unsafe(columns)}`
  return { row: added, created: true }
}

export async function removeEntry(tx: Tx, inboxId: string | null, entryId: string): Promise<EntryRow | undefined> {
  const [row] = await tx<EntryRow[]>`
    delete from agentry.email_sender_lists
    where id = ${entryId} and ${inboxId ? tx`inbox_id = ${inboxId}` : tx`inbox_id is null`}
    returning ${tx.unsafe(columns)}`
  return row
}

export function withoutPosition({ position: _, ...entry }: EntryRow): Omit<EntryRow, 'position'> {
  return entry
}

export interface FilteringRow {
  inbox_id: string
  blocked_senders: 'refuse' | 'flag'
  allow_list_only: boolean
  spam_threshold: number
}

export async function getFiltering(tx: Tx, inboxId: string): Promise<FilteringRow | undefined> {
  const [row] = await tx<FilteringRow[]>`
    select id as inbox_id, blocked_senders, allow_list_only, spam_threshold::float8 as spam_threshold
    from agentry.email_inboxes where id = ${inboxId}`
  return row
}

export async function updateFiltering(
  tx: Tx,
  inboxId: string,
  changes: { blocked_senders?: string; allow_list_only?: boolean; spam_threshold?: number },
): Promise<FilteringRow | undefined> {
  const [row] = await tx<FilteringRow[]>`
    update agentry.email_inboxes set
      blocked_senders = coalesce(${changes.blocked_senders ?? null}, blocked_senders),
      allow_list_only = coalesce(${changes.allow_list_only ?? null}::boolean, allow_list_only),
      spam_threshold = coalesce(${changes.spam_threshold ?? null}::numeric, spam_threshold)
    where id = ${inboxId}
    returning id as inbox_id, blocked_senders, allow_list_only, spam_threshold::float8 as spam_threshold`
  return row
}
