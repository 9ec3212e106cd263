import type { Tx } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'

export interface BaseRow {
  id: string
  name: string
  description: string | null
  environment_id: string | null
  is_default: boolean
  embedding_model: string | null
  embedding_dimensions: number | null
  chunk_size: number
  chunk_overlap: number
  agent_ids: string[]
  created_at: string
  updated_at: string
}

export interface BaseFields {
  name?: string
  description?: string | null
  embedding_model?: string | null
  embedding_dimensions?: number | null
  chunk_size?: number
  chunk_overlap?: number
}

// The links an agent key sees are its own agent's only (RLS), so it is shown that one among the agent ids.
const baseColumns = (tx: Tx) => tx`
  b.id, b.name, b.description, b.environment_id, b.is_default, b.embedding_model, b.embedding_dimensions, b.chunk_size,
  b.chunk_overlap,
  array(select l.agent_id from agentry.knowledge_base_agents l where l.base_id = b.id order by l.agent_id) as agent_ids,
  to_json(b.created_at) #>> '{}' as created_at, to_json(b.updated_at) #>> '{}' as updated_at`

const position = (tx: Tx) => tx`to_char(b.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || b.id as position`

/** Newest first; RLS decides which bases the caller sees (an agent key: those linked to its agent). */
export function listBases(tx: Tx, q: { limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(BaseRow & { position: string })[]>`
    select ${baseColumns(tx)}, ${position(tx)} from agentry.knowledge_bases b
    where true ${q.cursor ? tx`and (b.created_at, b.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by b.created_at desc, b.id desc
    limit ${q.limit + 1}`
}

export async function findBase(tx: Tx, id: string, options: { lock?: boolean } = {}): Promise<BaseRow | undefined> {
  const [row] = await tx<BaseRow[]>`
    select ${baseColumns(tx)} from agentry.knowledge_bases b where b.id = ${id} ${options.lock ? tx`for update` : tx``}`
  return row
}

/** The base, or 404: for routes addressing it or one of its items. */
export async function requireBase(tx: Tx, id: string, options: { lock?: boolean } = {}): Promise<BaseRow> {
  const base = await findBase(tx, id, options)
  if (!base) throw notFound('Knowledge base')
  return base
}

export async function insertBase(
  tx: Tx,
  orgId: string,
  b: BaseFields & { name: string; environment_id?: string; is_default?: boolean },
): Promise<string> {
  const row = { org_id: orgId, ...defined(b) }
  const [created] = await tx<{ id: string }[]>`
    insert into agentry.knowledge_bases ${tx(row, ...(Object.keys(row) as never[]))} returning id`
  return created.id
}

export async function updateBase(tx: Tx, id: string, b: BaseFields): Promise<void> {
  const set = defined(b)
  if (Object.keys(set).length === 0) return
  await tx`update agentry.knowledge_bases set ${tx(set, ...(Object.keys(set) as never[]))} where id = ${id}`
}

export async function deleteBase(tx: Tx, id: string): Promise<BaseRow | undefined> {
  const base = await findBase(tx, id)
  if (!base) return undefined
  const deleted = await tx`delete from agentry.knowledge_bases where id = ${id}`
  return deleted.count === 1 ? base : undefined
}

/**
 * Makes `agentIds` the base's agents. An agent the organisation does not have fails its foreign key and is
 * answered as not found, like any id the credential cannot see.
 */
export async function linkAgents(tx: Tx, orgId: string, baseId: string, agentIds: string[]): Promise<void> {
  await tx`delete from agentry.knowledge_base_agents where base_id = ${baseId} and agent_id <> all(${agentIds}::uuid[])`
  if (agentIds.length === 0) return
  const rows = agentIds.map((agentId) => ({ org_id: orgId, base_id: baseId, agent_id: agentId }))
  await tx`insert into agentry.knowledge_base_agents ${tx(rows, 'org_id', 'base_id', 'agent_id')} on conflict do nothing`.catch(
    (error: { code?: string }) => {
      if (error.code === '23503') throw notFound('Agent')
      throw error
    },
  )
}

/**
 * Items a PATCH queues again itself, in one statement; a larger base is left to the knowledge.reindex_base
 * job, since 100,000 items take tens of seconds, too long for a request to hold them (measured in
 * tests/knowledge/reindex.test.ts).
 */
export const requeueInRequestLimit = 5000

/**
 * Queues every item of the base for indexing again, with one indexing job each (sql/20261130000019_knowledge_reindex.sql):
 * in the caller's transaction, or, for a base of more than `requeueInRequestLimit` items, by one
 * knowledge.reindex_base job enqueued in it. Returns how many items are queued again.
 */
export async function requeueItems(tx: Tx, baseId: string): Promise<number> {
  const [{ n }] = await tx<{ n: number }[]>`
    select count(*)::integer as n from (
      select 1 from agentry.knowledge_items where base_id = ${baseId} limit ${requeueInRequestLimit + 1}) i`
  if (n <= requeueInRequestLimit) {
    const [row] = await tx<{ requeued: number }[]>`select agentry.requeue_knowledge_base(${baseId}) as requeued`
    return row.requeued
  }
  await tx`select agentry.enqueue_job('knowledge.reindex_base', ${tx.json({ base_id: baseId })}, ${baseId})`
  const [all] = await tx<{ n: number }[]>`select count(*)::integer as n from agentry.knowledge_items where base_id = ${baseId}`
  return all.n
}

/** Whether the fields change how the base's items are cut into chunks. */
export function changesChunking(current: Pick<BaseRow, 'chunk_size' | 'chunk_overlap'>, fields: BaseFields): boolean {
  return (
    (fields.chunk_size !== undefined && fields.chunk_size !== current.chunk_size) ||
    (fields.chunk_overlap !== undefined && fields.chunk_overlap !== current.chunk_overlap)
  )
}

/** Whether the base has chunks, which fix its embedding model and dimensions. */
export async function hasChunks(tx: Tx, baseId: string): Promise<boolean> {
  const [row] = await tx<{ found: boolean }[]>`
    select exists (select 1 from agentry.knowledge_chunks where base_id = ${baseId}) as found`
  return row.found
}

/** Chunk overlap must stay below chunk size, whichever of the two a request changes. */
export function refuseOverlap(chunkSize: number, chunkOverlap: number): void {
  if (chunkOverlap < chunkSize) return
  const message = `Must be less than chunk_size (${chunkSize}).`
  throw new ApiError('validation_failed', `Invalid request: chunk_overlap: ${message}`, { fields: [{ field: 'chunk_overlap', message }] })
}

function defined<T extends object>(fields: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined))
}
