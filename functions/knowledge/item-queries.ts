import type { Tx } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { type ContentType, plainTextOf } from './plain-text.ts'

type ItemStatus = 'queued' | 'indexing' | 'ready' | 'failed'

export interface ItemSummaryRow {
  id: string
  base_id: string
  title: string | null
  content_type: ContentType
  metadata: Record<string, unknown>
  namespace: string | null
  entry_id: string | null
  status: ItemStatus
  chunks_total: number
  chunks_done: number
  error: string | null
  content_version: number
  indexed_at: string | null
  created_at: string
  updated_at: string
}

export interface ItemRow extends ItemSummaryRow {
  content: string
  text: string
}

export interface ItemFields {
  title?: string | null
  content?: string
  content_type?: ContentType
  metadata?: Record<string, unknown>
  namespace?: string | null
  entry_id?: string | null
}

const summaryColumns = (tx: Tx) => tx`
  id, base_id, title, content_type, metadata, namespace, entry_id, status, chunks_total, chunks_done,
  error, content_version, to_json(indexed_at) #>> '{}' as indexed_at, to_json(created_at) #>> '{}' as created_at,
  to_json(updated_at) #>> '{}' as updated_at`

const itemColumns = (tx: Tx) => tx`${summaryColumns(tx)}, content, text`

/** A base's items, newest first, without their content. */
export function listItems(tx: Tx, baseId: string, q: { limit: number; cursor?: string; namespace?: string; status?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(ItemSummaryRow & { position: string })[]>`
    select ${summaryColumns(tx)},
      to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id as position
    from agentry.knowledge_items
    where base_id = ${baseId}
      ${q.namespace ? tx`and namespace = ${q.namespace}` : tx``}
      ${q.status ? tx`and status = ${q.status}` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

export async function findItem(tx: Tx, baseId: string, id: string): Promise<ItemRow | undefined> {
  const [row] = await tx<ItemRow[]>`select ${itemColumns(tx)} from agentry.knowledge_items where base_id = ${baseId} and id = ${id}`
  return row
}

export async function findEntry(tx: Tx, baseId: string, entryId: string): Promise<ItemRow | undefined> {
  const [row] = await tx<ItemRow[]>`
    select ${itemColumns(tx)} from agentry.knowledge_items where base_id = ${baseId} and entry_id = ${entryId}`
  return row
}

/** A new item, queued for indexing in the same transaction. */
export async function insertItem(tx: Tx, orgId: string, baseId: string, f: ItemFields & { content: string }): Promise<ItemRow> {
  const type = f.content_type ?? 'text'
  const row = {
    ...definedFields(tx, f),
    org_id: orgId,
    base_id: baseId,
    content_type: type,
    text: plainTextOf(f.content, type),
  }
  const [item] = await tx<ItemRow[]>`
    insert into agentry.knowledge_items ${tx(row, ...(Object.keys(row) as never[]))} returning ${itemColumns(tx)}`.catch(
    refuseTakenEntry(f.entry_id),
  )
  await queueIndexing(tx, item)
  return item
}

/**
 * Changes an item. A change its chunks depend on moves its version on (the trigger in the migration) and
 * queues it for indexing again in the same transaction; a content type alone converts the stored content.
 */
export async function updateItem(tx: Tx, current: ItemRow, f: ItemFields): Promise<ItemRow> {
  const set: Record<string, unknown> = definedFields(tx, f)
  if (f.content !== undefined || f.content_type !== undefined) {
    set.text = plainTextOf(f.content ?? current.content, f.content_type ?? current.content_type)
  }
  if (Object.keys(set).length === 0) return current
  const [item] = await tx<ItemRow[]>`
    update agentry.knowledge_items set ${tx(set, ...(Object.keys(set) as never[]))}
    where id = ${current.id} returning ${itemColumns(tx)}`.catch(refuseTakenEntry(f.entry_id))
  if (item.content_version !== current.content_version) await queueIndexing(tx, item)
  return item
}

export async function deleteItem(tx: Tx, baseId: string, id: string): Promise<ItemRow | undefined> {
  const [row] = await tx<ItemRow[]>`
    delete from agentry.knowledge_items where base_id = ${baseId} and id = ${id} returning ${itemColumns(tx)}`
  return row
}

/**
 * Enqueues the job that indexes this version of the item (jobs, sql/20261130000013_jobs.sql). Keyed by the
 * item, so changes made before indexing starts leave one queued job, which indexes the newest version.
 */
async function queueIndexing(tx: Tx, item: ItemRow): Promise<void> {
  const payload = { item_id: item.id, content_version: item.content_version }
  await tx`select agentry.enqueue_job('knowledge.index_item', ${tx.json(payload)}, ${item.id})`
}

function refuseTakenEntry(entryId: string | null | undefined) {
  return (error: { code?: string; constraint_name?: string }) => {
    if (error.code === '23505' && error.constraint_name === 'knowledge_items_base_id_entry_id_key') {
      throw new ApiError('conflict', `An item with entry_id "${entryId}" already exists in this knowledge base.`)
    }
    throw error
  }
}

function definedFields(tx: Tx, f: ItemFields): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined))
  if (f.metadata) out.metadata = tx.json(f.metadata as never)
  return out
}
