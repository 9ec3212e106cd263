// The statements of a thread search by meaning, each run inside the caller's tenant transaction, so the
// messages' rules (RLS on agentry.email_message_vectors and email_messages) decide what it can reach.
import type { Tx } from '../../_core/db.ts'
import { keywordQueryOf } from '../../_core/search/keyword-terms.ts'
import { vectorBatchRows, type VectorBatches } from '../../_core/search/vectors.ts'
import { inboxFilter } from '../messages/queries.ts'
import { type ThreadRow, threadColumns } from '../threads/queries.ts'

/** The embedded messages of the inbox or domain searched, of one model, in id order, batch by batch. */
export function messageVectorRows(tx: Tx, q: { inbox_id?: string; domain_id?: string }, model: string): VectorBatches {
  return tx<{ id: string; embedding: Uint8Array }[]>`
    select v.message_id as id, v.embedding
    from agentry.email_message_vectors v
    where v.embedding_model = ${model} ${inboxFilter(tx, 'v', q)}
    order by v.message_id`.cursor(vectorBatchRows)
}

/** The inboxes searched that hold vectors, with the version of their vectors, under the caller's policies. */
export function inboxVectorVersions(tx: Tx, q: { inbox_id?: string; domain_id?: string }) {
  return tx<{ inbox_id: string; version: string; vectors: number }[]>`
    select v.inbox_id, v.version::text as version, v.vectors::int as vectors
    from agentry.email_inbox_vectors v
    where v.vectors > 0 ${inboxFilter(tx, 'v', q)}
    order by v.inbox_id`
}

/** The thread of each message named. */
export function threadsOfMessages(tx: Tx, ids: string[]) {
  return tx<{ id: string; thread_id: string }[]>`
    select m.id, m.thread_id from agentry.email_messages m where m.id = any(${ids}::uuid[])`
}

/**
 * The keyword ranking of threads (sql/20261130000025_email_search_vectors.sql), without reading the threads:
 * the query's terms read as knowledge search reads them (_core/search/keyword-terms.ts).
 */
export function keywordThreadRanking(tx: Tx, q: { q: string; inbox_id?: string; domain_id?: string }, limit: number) {
  const terms = keywordQueryOf(q.q)
  return tx<{ thread_id: string; rank: number; all_terms: boolean }[]>`
    select r.thread_id, r.rank, r.all_terms
    from agentry.rank_email_threads(${q.inbox_id ?? null}::uuid, ${q.domain_id ?? null}::uuid, ${terms.query},
      ${terms.any}::text, ${terms.none}::text, ${limit}) r
    order by r.all_terms desc, r.rank desc, r.thread_id`
}

/** The threads named, read under the caller's own policies. */
export function threadsByIds(tx: Tx, ids: string[]) {
  return tx<ThreadRow[]>`select ${threadColumns(tx)} from agentry.email_threads t where t.id = any(${ids}::uuid[])`
}
