// The statements of a knowledge search, each run inside the caller's tenant transaction, so RLS decides which
// bases and chunks it can reach.
import type { Tx } from '../_core/db.ts'
import type { KeywordQuery } from '../_core/search/keyword-terms.ts'

export interface SearchFilter {
  namespace?: string
  metadata?: Record<string, unknown>
}

export interface SearchedBase {
  id: string
  embedding_model: string | null
  /** Moves with every change to the base's chunks (see sql/20261130000014_knowledge_search.sql). */
  version: string
  /** Chunks holding an embedding. */
  vectors: number
  /** The model the base's chunks were embedded with, when any are. */
  indexed_model: string | null
}

export function findSearchedBase(tx: Tx, baseId: string) {
  return tx<SearchedBase[]>`
    select b.id, b.embedding_model, coalesce(v.version, 0)::text as version, coalesce(v.vectors, 0)::int as vectors,
      (select c.embedding_model from agentry.knowledge_chunks c
       where c.base_id = b.id and c.embedding is not null limit 1) as indexed_model
    from agentry.knowledge_bases b
    left join agentry.knowledge_base_vectors v on v.base_id = b.id
    where b.id = ${baseId}`
}

function filtered(tx: Tx, filter: SearchFilter) {
  return tx`
    ${filter.namespace === undefined ? tx`` : tx`and c.namespace = ${filter.namespace}`}
    ${filter.metadata === undefined ? tx`` : tx`and c.metadata @> ${tx.json(filter.metadata as never)}`}`
}

/**
 * Chunks matching the words of the query (web search syntax), best `ts_rank_cd` first, ties by id; when fewer
 * than `limit` match strictly, the rest match any of its terms (`all_terms` false), ranked after. Through a
 * function that applies the chunks' tenant rules itself, so the GIN index is used (see the migrations).
 */
export function keywordRanking(tx: Tx, baseId: string, q: KeywordQuery, limit: number, filter: SearchFilter) {
  return tx<{ id: string; rank: number; all_terms: boolean }[]>`
    select id, rank, all_terms from agentry.rank_knowledge_chunks(
      ${baseId}, ${q.query}, ${q.any}::text, ${q.none}::text, ${limit}, ${filter.namespace ?? null}::text,
      ${filter.metadata === undefined ? null : tx.json(filter.metadata as never)}::jsonb)
    order by all_terms desc, rank desc, id`
}

/** The embedded chunks a filter lets through, for the in-memory search to choose among. */
export function filteredChunkIds(tx: Tx, baseId: string, filter: SearchFilter) {
  return tx<{ id: string }[]>`
    select c.id from agentry.knowledge_chunks c
    where c.base_id = ${baseId} and c.embedding is not null ${filtered(tx, filter)}`
}

/** Whether this database searches vectors with pgvector: the migration made the function only where it could. */
export function hasPgvectorSearch(tx: Tx) {
  return tx<{ found: boolean }[]>`
    select to_regprocedure('agentry.nearest_knowledge_chunks(uuid, real[], integer, text, jsonb)') is not null as found`
}

/** pgvector's nearest chunks (HNSW), as cosine similarities. */
export function pgvectorNearest(tx: Tx, baseId: string, query: Float32Array, limit: number, filter: SearchFilter) {
  return tx<{ id: string; similarity: number }[]>`
    select id, similarity from agentry.nearest_knowledge_chunks(
      ${baseId}, ${Array.from(query)}::real[], ${limit}, ${filter.namespace ?? null}::text,
      ${filter.metadata === undefined ? null : tx.json(filter.metadata as never)}::jsonb)`
}

/** pgvector's similarity of given chunks to the query, for the hybrid answer's chunks found by keyword only. */
export function pgvectorSimilarities(tx: Tx, ids: string[], query: Float32Array) {
  return tx<{ id: string; similarity: number }[]>`
    select id, similarity from agentry.knowledge_chunk_similarities(${ids}::uuid[], ${Array.from(query)}::real[])`
}

export interface FoundChunk {
  chunk_id: string
  item_id: string
  title: string | null
  text: string
  position: number
  namespace: string | null
  metadata: Record<string, unknown>
  /** ts_rank_cd of the query when the chunk matches it, else of its terms as alternatives when it holds one, else null. */
  keyword: number | null
}

/** The chunks an answer shows, with their keyword rank whichever ranking found them. */
export function foundChunks(tx: Tx, baseId: string, ids: string[], q: KeywordQuery) {
  const loose =
    q.any === null
      ? tx`null::tsquery`
      : q.none === null
        ? tx`websearch_to_tsquery('english', ${q.any})`
        : tx`(websearch_to_tsquery('english', ${q.any}) && !! websearch_to_tsquery('english', ${q.none}))`
  return tx<FoundChunk[]>`
    select c.id as chunk_id, c.item_id, c.title, c.text, c.position, c.namespace, c.metadata,
      case when c.tsv @@ q then ts_rank_cd(c.tsv, q)::float8
           when t.l is not null and c.tsv @@ t.l then ts_rank_cd(c.tsv, t.l)::float8 end as keyword
    from agentry.knowledge_chunks c, websearch_to_tsquery('english', ${q.query}) q, (select ${loose} as l) t
    where c.base_id = ${baseId} and c.id = any(${ids}::uuid[])`
}
