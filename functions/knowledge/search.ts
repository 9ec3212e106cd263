// A knowledge search: keyword (PostgreSQL full text), semantic (exact cosine similarity, in this process's
// vector cache or with pgvector where the database has it) or hybrid (both, fused by reciprocal rank). What
// ran is reported as `search_type`: without an embeddings provider, or in a base with no embeddings, every
// mode runs as keyword.
import { withTenant, type Tenant, type Tx } from '../_core/db.ts'
import type { EmbeddingsProvider } from '../_core/embeddings/provider.ts'
import { readEnv } from '../_core/env.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import {
  filteredChunkIds,
  findSearchedBase,
  foundChunks,
  hasPgvectorSearch,
  keywordRanking,
  pgvectorNearest,
  pgvectorSimilarities,
  type FoundChunk,
  type SearchedBase,
  type SearchFilter,
} from './search-queries.ts'
import { type KeywordQuery, keywordQueryOf } from '../_core/search/keyword-terms.ts'
import { embedQuery, type QueryEmbedding, recordQueryEmbedding } from '../_core/search/query-embedding.ts'
import { fusionDepth, fuseRankings, topRows } from '../_core/search/ranking.ts'
import { similarities } from '../_core/search/vectors.ts'
import { loadBaseVectors, scanBaseNearest, vectorCache } from './search-vector-cache.ts'

export const searchModes = ['hybrid', 'semantic', 'keyword'] as const
export type SearchMode = (typeof searchModes)[number]

export interface SearchRequest {
  query: string
  limit: number
  mode: SearchMode
  /** Keyword mode: the least keyword rank; semantic and hybrid: the least vector similarity. */
  score_threshold?: number
  filter: SearchFilter
}

export interface SearchResult extends Omit<FoundChunk, 'keyword'> {
  scores: { keyword: number | null; vector: number | null; fused: number | null }
}

export interface SearchAnswer {
  search_type: SearchMode
  results: SearchResult[]
}

export interface SearchContext {
  tenant: Tenant
  embeddings: EmbeddingsProvider | null
  /**
   * The query's embedding, when the caller has already asked for it (one message searched in several bases
   * is embedded once): used instead of embedding the query again, and left to the caller to record as usage.
   */
  queryEmbedding?: QueryEmbedding | Promise<QueryEmbedding>
}

/** A search's answer, and which chunks the keyword ranking found holding every term of the query (the others, any). */
export interface RankedAnswer extends SearchAnswer {
  allTerms: ReadonlySet<string>
}

interface VectorHit {
  id: string
  similarity: number
}

/** Searches one base the tenant can read; 404 when it cannot. */
export async function searchBase(ctx: SearchContext, baseId: string, request: SearchRequest): Promise<SearchAnswer> {
  const { search_type, results } = await rankBase(ctx, baseId, request)
  return { search_type, results }
}

/** searchBase, saying also which chunks hold every term of the query. */
export async function rankBase(ctx: SearchContext, baseId: string, request: SearchRequest): Promise<RankedAnswer> {
  const { tenant, embeddings } = ctx
  const wantsVectors = request.mode !== 'keyword' && embeddings !== null
  const terms = keywordQueryOf(request.query)
  // The query's embedding is asked for while the database looks the base up.
  const given = ctx.queryEmbedding === undefined ? undefined : Promise.resolve(ctx.queryEmbedding)
  const embedding = wantsVectors ? (given ?? embedQuery(embeddings, request.query)) : null
  embedding?.catch(() => {})

  const depth = request.mode === 'hybrid' ? fusionDepth(request.limit) : request.limit
  // Keyword ranking that runs whatever the base holds goes out with the base's lookup, in one round trip.
  const keywordSurely = request.mode !== 'semantic' || !wantsVectors
  // Beside vectors (hybrid), the keyword side ranks whole matches only: meaning finds what the words miss,
  // and filling with any-term matches is what costs when the words are common (hybrid p50 at 100k chunks
  // went from 29 to 81 ms with it). Alone, keyword search fills.
  const strictOnly: KeywordQuery = { ...terms, any: null }
  const earlyTerms = request.mode === 'hybrid' && wantsVectors ? strictOnly : terms
  const first = await withTenant(tenant, async (tx) => {
    const [[base], early] = await Promise.all([
      findSearchedBase(tx, baseId),
      keywordSurely ? keywordRanking(tx, baseId, earlyTerms, depth, request.filter) : undefined,
    ])
    if (!base) throw notFound('Knowledge base')
    const vectorsRun = wantsVectors && base.vectors > 0
    const keywordRuns = !vectorsRun || request.mode === 'hybrid'
    const keywordTerms = vectorsRun ? strictOnly : terms
    const [keyword, pgvector, candidates] = await Promise.all([
      early && (vectorsRun || earlyTerms === terms)
        ? early
        : keywordRuns
          ? keywordRanking(tx, base.id, keywordTerms, depth, request.filter)
          : [],
      vectorsRun ? usesPgvector(tx) : false,
      vectorsRun && hasFilter(request.filter) ? filteredChunkIds(tx, base.id, request.filter) : undefined,
    ])
    return { base, vectorsRun, keyword, pgvector, candidates }
  })
  const { base, keyword } = first
  if (!first.vectorsRun || !embedding) return answer(tenant, base, request, terms, 'keyword', keyword, [], new Map())

  const query = await embedding
  refuseOtherModel(base, query.model)
  const vectorScores = new Map<string, number>()
  let hits: VectorHit[]
  if (first.pgvector) {
    hits = await withTenant(tenant, async (tx) => {
      const nearest = await pgvectorNearest(tx, base.id, query.vector, depth, request.filter)
      const missing = keyword.map((k) => k.id).filter((id) => !nearest.some((n) => n.id === id))
      for (const s of missing.length ? await pgvectorSimilarities(tx, missing, query.vector) : []) vectorScores.set(s.id, s.similarity)
      return nearest
    })
  } else {
    hits = await nearestInMemory(
      tenant,
      base,
      query.vector,
      depth,
      first.candidates?.map((c) => c.id),
      keyword,
      vectorScores,
    )
  }
  for (const hit of hits) vectorScores.set(hit.id, hit.similarity)
  const searchType = request.mode === 'semantic' ? 'semantic' : 'hybrid'
  return answer(tenant, base, request, terms, searchType, keyword, hits, vectorScores, given ? undefined : query)
}

function hasFilter(filter: SearchFilter): boolean {
  return filter.namespace !== undefined || filter.metadata !== undefined
}

let pgvectorChecked: boolean | undefined

/** KNOWLEDGE_VECTOR_SEARCH=memory|pgvector chooses; by default pgvector wherever the migration could set it up. */
async function usesPgvector(tx: Tx): Promise<boolean> {
  const chosen = readEnv('KNOWLEDGE_VECTOR_SEARCH')
  if (chosen === 'memory') return false
  if (pgvectorChecked === undefined) {
    const [row] = await hasPgvectorSearch(tx)
    pgvectorChecked = row.found
  }
  return pgvectorChecked
}

/** Vectors of two models cannot be compared: a base indexed with another model is refused, not searched wrongly. */
function refuseOtherModel(base: SearchedBase, model: string): void {
  const indexed = base.indexed_model ?? base.embedding_model
  if (indexed && indexed !== model) {
    throw new ApiError(
      'conflict',
      `This knowledge base is indexed with the embeddings model "${indexed}", but queries are embedded with "${model}": ` +
        `their vectors cannot be compared. Search it with mode "keyword", or index it again with "${model}".`,
    )
  }
}

async function nearestInMemory(
  tenant: Tenant,
  base: SearchedBase,
  query: Float32Array,
  depth: number,
  candidates: string[] | undefined,
  keyword: { id: string }[],
  vectorScores: Map<string, number>,
): Promise<VectorHit[]> {
  const cache = vectorCache()
  const only = candidates ? new Set(candidates) : undefined
  if (!cache.fits(base.vectors, query.length)) {
    return withTenant(tenant, async (tx) => {
      const wanted = new Set(keyword.map((k) => k.id))
      const hits = await scanBaseNearest(tx, base.id, query, depth, only)
      // Chunks found by keyword alone are scored separately: the scan kept only the best.
      for (const s of wanted.size ? await scanBaseNearest(tx, base.id, query, wanted.size, wanted) : [])
        vectorScores.set(s.id, s.similarity)
      return hits
    })
  }
  const vectors = await cache.vectorsOf(base.id, base.version, () => withTenant(tenant, (tx) => loadBaseVectors(tx, base.id, base.vectors)))
  if (!vectors) return []
  refuseOtherDimensions(vectors.dims, query.length)
  // From here to the return nothing awaits: the scores live in a buffer the next search reuses.
  const scores = similarities(vectors, query)
  const rows = only ? [...only].map((id) => vectors.rowOf(id)).filter((r) => r !== undefined) : undefined
  for (const k of keyword) {
    const row = vectors.rowOf(k.id)
    if (row !== undefined) vectorScores.set(k.id, scores[row])
  }
  return topRows(scores, depth, rows).map((r) => ({ id: vectors.ids[r], similarity: scores[r] }))
}

function refuseOtherDimensions(indexed: number, query: number): void {
  if (indexed !== query) {
    throw new ApiError(
      'conflict',
      `This knowledge base holds vectors of ${indexed} dimensions, but the query was embedded in ${query}: ` +
        'search it with mode "keyword", or index it again with the current embeddings settings.',
    )
  }
}

async function answer(
  tenant: Tenant,
  base: SearchedBase,
  request: SearchRequest,
  terms: KeywordQuery,
  searchType: SearchMode,
  keyword: { id: string; rank: number; all_terms: boolean }[],
  hits: VectorHit[],
  vectorScores: Map<string, number>,
  embedded?: QueryEmbedding,
): Promise<RankedAnswer> {
  const threshold = request.score_threshold
  const keywordScores = new Map(keyword.map((k) => [k.id, k.rank]))
  const passes = (id: string) =>
    threshold === undefined ||
    (searchType === 'keyword' ? (keywordScores.get(id) ?? -Infinity) >= threshold : (vectorScores.get(id) ?? -Infinity) >= threshold)

  const fused = new Map<string, number>()
  let ranked: string[]
  if (searchType === 'hybrid') {
    ranked = fuseRankings([keyword.map((k) => k.id), hits.map((h) => h.id)]).map((f) => {
      fused.set(f.id, f.fused)
      return f.id
    })
  } else {
    ranked = searchType === 'keyword' ? keyword.map((k) => k.id) : hits.map((h) => h.id)
  }
  const chosen = ranked.filter(passes).slice(0, request.limit)
  const [rows] = await Promise.all([
    chosen.length ? withTenant(tenant, (tx) => foundChunks(tx, base.id, chosen, terms)) : [],
    embedded ? recordQueryEmbedding(tenant, embedded) : undefined,
  ])
  const byId = new Map(rows.map((row) => [row.chunk_id, row]))
  const results: SearchResult[] = []
  for (const id of chosen) {
    const row = byId.get(id)
    // A chunk replaced since it was ranked is left out rather than shown with scores it no longer has.
    if (!row) continue
    const { keyword: keywordRank, ...chunk } = row
    results.push({
      ...chunk,
      scores: { keyword: keywordScores.get(id) ?? keywordRank, vector: vectorScores.get(id) ?? null, fused: fused.get(id) ?? null },
    })
  }
  const allTerms = new Set(keyword.filter((k) => k.all_terms).map((k) => k.id))
  return { search_type: searchType, results, allTerms }
}
