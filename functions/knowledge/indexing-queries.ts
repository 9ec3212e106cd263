// What the indexing job reads and writes. Not a tenant's request: these run on the service connection, so
// every statement names the item's organisation itself, and every write to the item is fenced by the content
// version the job was enqueued for, so a job for old content never overwrites what newer content set.
import type { Db, Sql } from '../_core/db.ts'
import { vectorToBytes } from '../_core/embeddings/vectors.ts'

export interface ItemToIndex {
  id: string
  base_id: string
  title: string | null
  text: string
  namespace: string | null
  metadata: Record<string, unknown>
  content_version: number
  chunk_size: number
  chunk_overlap: number
  embedding_model: string | null
  embedding_dimensions: number | null
}

export interface ChunkRow {
  text: string
  tokens: number
  embedding: Float32Array | null
  embeddingModel: string | null
}

export async function findItemToIndex(sql: Sql, orgId: string, itemId: string): Promise<ItemToIndex | undefined> {
  const [item] = await sql<ItemToIndex[]>`
    select i.id, i.base_id, i.title, i.text, i.namespace, i.metadata, i.content_version,
           b.chunk_size, b.chunk_overlap, b.embedding_model, b.embedding_dimensions
    from agentry.knowledge_items i join agentry.knowledge_bases b on b.id = i.base_id and b.org_id = i.org_id
    where i.id = ${itemId} and i.org_id = ${orgId}`
  return item
}

/** Marks the item as being indexed into `total` chunks; false when its content has moved on. */
export async function startIndexing(sql: Sql, orgId: string, itemId: string, version: number, total: number): Promise<boolean> {
  const rows = await sql`
    update agentry.knowledge_items set status = 'indexing', chunks_total = ${total}, chunks_done = 0, error = null
    where id = ${itemId} and org_id = ${orgId} and content_version = ${version}`
  return rows.count === 1
}

export async function recordChunksDone(sql: Sql, orgId: string, itemId: string, version: number, done: number): Promise<void> {
  await sql`
    update agentry.knowledge_items set chunks_done = ${done}
    where id = ${itemId} and org_id = ${orgId} and content_version = ${version} and status = 'indexing'`
}

/** Back in the queue after a failed attempt that will be tried again, saying why. */
export async function requeueItem(sql: Sql, orgId: string, itemId: string, version: number, error: string): Promise<void> {
  await sql`
    update agentry.knowledge_items set status = 'queued', chunks_done = 0, error = ${error}
    where id = ${itemId} and org_id = ${orgId} and content_version = ${version}`
}

/**
 * Fixes the base's embedding model and dimensions if they are not yet, and says which it holds now; the row
 * stays locked to the end of the transaction, so two items cannot fix it two ways.
 */
export async function fixBaseEmbeddings(
  tx: Db,
  baseId: string,
  model: string,
  dimensions: number,
): Promise<{ embedding_model: string; embedding_dimensions: number }> {
  const [base] = await tx<{ embedding_model: string; embedding_dimensions: number }[]>`
    update agentry.knowledge_bases
    set embedding_model = coalesce(embedding_model, ${model}), embedding_dimensions = coalesce(embedding_dimensions, ${dimensions})
    where id = ${baseId}
    returning embedding_model, embedding_dimensions`
  return base
}

const rowsPerInsert = 500

/**
 * Replaces the item's chunks with `chunks` and marks it ready, if its content is still the version indexed;
 * false (and nothing written) when it has moved on. Runs in the caller's transaction.
 */
export async function replaceChunks(tx: Db, orgId: string, item: ItemToIndex, chunks: ChunkRow[]): Promise<boolean> {
  const [current] = await tx<{ content_version: number }[]>`
    select content_version from agentry.knowledge_items where id = ${item.id} and org_id = ${orgId} for update`
  if (!current || current.content_version !== item.content_version) return false
  await tx`delete from agentry.knowledge_chunks where item_id = ${item.id} and org_id = ${orgId}`
  for (let from = 0; from < chunks.length; from += rowsPerInsert) {
    const rows = chunks.slice(from, from + rowsPerInsert).map((chunk, i) => ({
      org_id: orgId,
      base_id: item.base_id,
      item_id: item.id,
      position: from + i,
      title: item.title,
      text: chunk.text,
      token_count: chunk.tokens,
      namespace: item.namespace,
      metadata: item.metadata,
      content_version: item.content_version,
      embedding: chunk.embedding ? vectorToBytes(chunk.embedding) : null,
      embedding_model: chunk.embeddingModel,
    }))
    await tx`insert into agentry.knowledge_chunks ${tx(rows as never)}`
  }
  await tx`
    update agentry.knowledge_items
    set status = 'ready', chunks_total = ${chunks.length}, chunks_done = ${chunks.length}, error = null, indexed_at = now()
    where id = ${item.id} and org_id = ${orgId}`
  return true
}

/** Marks the item failed for good with `error`, if its content is still the version that failed. */
export async function failItem(sql: Db, orgId: string, itemId: string, version: number, error: string): Promise<boolean> {
  const rows = await sql`
    update agentry.knowledge_items set status = 'failed', error = ${error}
    where id = ${itemId} and org_id = ${orgId} and content_version = ${version}`
  return rows.count === 1
}

/** An event about an item, written only when an endpoint of the organisation takes its type (as triggers do). */
export async function emitItemEvent(db: Db, orgId: string, type: string, data: Record<string, unknown>): Promise<void> {
  await db`
    insert into agentry.events (org_id, type, data)
    select ${orgId}, ${type}, ${db.json(data as never)}
    where ${orgId}::uuid in (select agentry.orgs_listening(${type}))`
}
