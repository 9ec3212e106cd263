import type { Tx } from '../../_core/db.ts'
import { afterCursor, inboxFilter, timePosition } from '../messages/queries.ts'

export interface ThreadRow {
  thread_id: string
  inbox_id: string
  subject: string
  message_count: number
  last_message_at: string
  snippet: string
  last_direction: 'inbound' | 'outbound' | null
  has_attachments: boolean
  status: 'open' | 'needs_reply' | 'waiting' | 'closed'
  tags: string[]
  assigned_to: string | null
  created_at: string
}

export type ThreadMetadataRow = Pick<ThreadRow, 'thread_id' | 'tags' | 'status' | 'assigned_to'>

export const threadColumns = (tx: Tx) => tx`
  t.id as thread_id, t.inbox_id, t.subject, t.message_count, to_json(t.last_message_at) #>> '{}' as last_message_at,
  t.snippet, t.last_direction, t.has_attachments, t.status, t.tags, t.assigned_to, to_json(t.created_at) #>> '{}' as created_at`

/** By last message, newest first unless asked otherwise; the cursor is the last row's time and id. */
export async function listThreads(
  tx: Tx,
  q: { inbox_id?: string; domain_id?: string; order: 'asc' | 'desc'; limit: number; cursor?: string },
): Promise<(ThreadRow & { position: string })[]> {
  const direction = q.order === 'asc' ? tx`asc` : tx`desc`
  return tx<(ThreadRow & { position: string })[]>`
    select ${threadColumns(tx)}, ${timePosition(tx, 'last_message_at', 't')} as position
    from agentry.email_threads t
    where true ${inboxFilter(tx, 't', q)} ${afterCursor(tx, 'last_message_at', 't', q.cursor, q.order)}
    order by t.last_message_at ${direction}, t.id ${direction}
    limit ${q.limit + 1}`
}

export async function findThreadMetadata(tx: Tx, id: string): Promise<ThreadMetadataRow | undefined> {
  const [row] = await tx<ThreadMetadataRow[]>`
    select id as thread_id, tags, status, assigned_to from agentry.email_threads where id = ${id}`
  return row
}

export async function setThreadStatus(tx: Tx, id: string, status: string): Promise<ThreadMetadataRow | undefined> {
  const [row] = await tx<ThreadMetadataRow[]>`
    update agentry.email_threads set status = ${status} where id = ${id}
    returning id as thread_id, tags, status, assigned_to`
  return row
}

export async function assignThread(tx: Tx, id: string, assignedTo: string | null): Promise<ThreadMetadataRow | undefined> {
  const [row] = await tx<ThreadMetadataRow[]>`
    update agentry.email_threads set assigned_to = ${assignedTo} where id = ${id}
    returning id as thread_id, tags, status, assigned_to`
  return row
}

/**
 * Adds the tags the thread lacks, after those it has, in the order given; tags it has stay as they are. The
 * row is locked first so two requests adding tags at once both count against the cap.
 */
export async function addThreadTags(
  tx: Tx,
  id: string,
  tags: string[],
  max: number,
): Promise<{ row: ThreadMetadataRow; tooMany: false } | { row: undefined; tooMany: boolean }> {
  const [current] = await tx<{ tags: string[] }[]>`select tags from agentry.email_threads where id = ${id} for update`
  if (!current) return { row: undefined, tooMany: false }
  const merged = [...new Set([...current.tags, ...tags])]
  if (merged.length > max) return { row: undefined, tooMany: true }
  if (merged.length === current.tags.length) return { row: (await findThreadMetadata(tx, id)) as ThreadMetadataRow, tooMany: false }
  const [row] = await tx<ThreadMetadataRow[]>`
    update agentry.email_threads set tags = ${merged}::text[] where id = ${id}
    returning id as thread_id, tags, status, assigned_to`
  return { row, tooMany: false }
}

/** Removes the tags named; others stay in their order, and naming a tag the thread lacks changes nothing. */
export async function removeThreadTags(tx: Tx, id: string, tags: string[]): Promise<ThreadMetadataRow | undefined> {
  const [row] = await tx<ThreadMetadataRow[]>`
    update agentry.email_threads
    set tags = array(select t from unnest(tags) with ordinality u(t, n) where t <> all(${tags}::text[]) order by n)
    where id = ${id}
    returning id as thread_id, tags, status, assigned_to`
  return row
}
