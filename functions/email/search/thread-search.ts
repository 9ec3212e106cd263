// Thread search: keyword (PostgreSQL full text over subject, sender and new text, agentry.rank_email_threads),
// vector (exact cosine similarity of the messages' embeddings, _core/search/vectors.ts) or hybrid (both,
// fused by reciprocal rank with the code knowledge search uses, _core/search/ranking.ts). Messages are
// ranked, threads are scored by their best message. What ran is reported as `search_type`: without an
// embeddings provider every search runs as keyword.
import { database, type Tenant, type Tx, withTenant } from '../../_core/db.ts'
import type { EmbeddingsProvider } from '../../_core/embeddings/provider.ts'
import { readEnv } from '../../_core/env.ts'
import { ApiError } from '../../_core/errors.ts'
import { embedQuery, type QueryEmbedding, recordQueryEmbedding } from '../../_core/search/query-embedding.ts'
import { fusionDepth, fusionK, fuseRankings } from '../../_core/search/ranking.ts'
import { loadVectors, scanNearest, similarities, VectorCache } from '../../_core/search/vectors.ts'
import { topRows } from '../../_core/search/ranking.ts'
import type { ThreadRow } from '../threads/queries.ts'
import { switchOnEmailVectors } from './embed-messages.ts'
import { inboxVectorVersions, keywordThreadRanking, messageVectorRows, threadsByIds, threadsOfMessages } from './search-queries.ts'

export const threadSearchModes = ['hybrid', 'vector', 'keyword'] as const
export type ThreadSearchMode = (typeof threadSearchModes)[number]

export interface ThreadSearch {
  q: string
  inbox_id?: string
  domain_id?: string
  limit: number
  mode: ThreadSearchMode
}

export interface ThreadSearchAnswer {
  data: (ThreadRow & { score: number })[]
  search_type: ThreadSearchMode
}

/**
 * The least cosine similarity that lets a thread in on meaning alone (EMAIL_SEARCH_MIN_SIMILARITY, default
 * 0.2): the vectors rank every message, so without it any query would answer with the least unrelated mail.
 */
function minSimilarity(): number {
  const n = Number(readEnv('EMAIL_SEARCH_MIN_SIMILARITY') ?? 0.2)
  return Number.isFinite(n) ? n : 0.2
}

/** Messages ranked by meaning per thread wanted: a thread's several messages may all rank near the top. */
const messagesPerThread = 4

export async function searchThreads(tenant: Tenant, embeddings: EmbeddingsProvider | null, s: ThreadSearch): Promise<ThreadSearchAnswer> {
  if (s.mode === 'keyword' || !embeddings) return keywordSearch(tenant, s)
  // The query is embedded while the organisation's mail is switched on for embedding (once per process).
  const embedding = embedQuery(embeddings, s.q)
  embedding.catch(() => {})
  await switchOnEmailVectors(database(), tenant.org_id, embeddings.model)
  const depth = s.mode === 'hybrid' ? fusionDepth(s.limit) : s.limit
  let query: QueryEmbedding
  try {
    query = await embedding
  } catch (error) {
    // Hybrid, the default, still answers by keyword when the provider fails (and says so); vector cannot.
    if (s.mode === 'hybrid' && error instanceof ApiError) return keywordSearch(tenant, s)
    throw error
  }
  const data = await withTenant(tenant, async (tx) => {
    const [keyword, nearest] = await Promise.all([
      s.mode === 'hybrid' ? keywordThreadRanking(tx, s, depth) : [],
      nearestMessages(tx, s, query, depth * messagesPerThread),
    ])
    const close = nearest.filter((n) => n.similarity >= minSimilarity())
    const threadOf = new Map(
      (close.length
        ? await threadsOfMessages(
            tx,
            close.map((n) => n.id),
          )
        : []
      ).map((m) => [m.id, m.thread_id]),
    )
    // Each thread by its best message: `close` is best first, so the first seen is the best.
    const byMeaning = new Map<string, number>()
    for (const n of close) {
      const thread = threadOf.get(n.id)
      if (thread && !byMeaning.has(thread) && byMeaning.size < depth) byMeaning.set(thread, n.similarity)
    }
    return threadsInOrder(tx, s.mode === 'vector' ? byVector(byMeaning) : fused(keyword, byMeaning), s.limit)
  })
  await recordQueryEmbedding(tenant, query)
  return { data, search_type: s.mode }
}

let cache: VectorCache | undefined

/** This process's cache of inboxes' vectors, bounded by EMAIL_VECTOR_CACHE_MB (default 256). */
function inboxVectorCache(): VectorCache {
  const mb = Number(readEnv('EMAIL_VECTOR_CACHE_MB') ?? 256)
  cache ??= new VectorCache((Number.isFinite(mb) && mb >= 0 ? mb : 256) * 1024 * 1024)
  return cache
}

/**
 * The `k` messages closest in meaning, of the inboxes searched: each inbox's vectors kept in this process until
 * its version moves (one indexed read per search), an inbox too large to keep streamed and scored batch by batch.
 */
async function nearestMessages(tx: Tx, s: ThreadSearch, query: QueryEmbedding, k: number): Promise<{ id: string; similarity: number }[]> {
  const found: { id: string; similarity: number }[] = []
  for (const inbox of await inboxVectorVersions(tx, s)) {
    const rows = () => messageVectorRows(tx, { inbox_id: inbox.inbox_id }, query.model)
    if (!inboxVectorCache().fits(inbox.vectors, query.vector.length)) {
      found.push(...(await scanNearest(rows(), query.vector, k)))
      continue
    }
    const vectors = await inboxVectorCache().vectorsOf(`${inbox.inbox_id}|${query.model}`, inbox.version, () =>
      loadVectors(rows(), inbox.vectors),
    )
    // Vectors of another size (another EMBEDDINGS_DIMENSIONS) cannot be compared: that inbox is found by keyword.
    if (!vectors || vectors.dims !== query.vector.length) continue
    // Nothing awaits between scoring and reading the scores: the buffer is the next search's.
    const scores = similarities(vectors, query.vector)
    for (const r of topRows(scores, k)) found.push({ id: vectors.ids[r], similarity: scores[r] })
  }
  return found.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1)).slice(0, k)
}

function byVector(byMeaning: Map<string, number>): Scored[] {
  return [...byMeaning].map(([id, similarity]) => ({ id, score: Math.min(1, Math.max(0, similarity)) }))
}

/** Reciprocal rank fusion scores at most 2 / (k + 1), a thread first in both rankings: scaled to 0–1. */
function fused(keyword: { thread_id: string }[], byMeaning: Map<string, number>): Scored[] {
  const best = 2 / (fusionK + 1)
  return fuseRankings([keyword.map((k) => k.thread_id), [...byMeaning.keys()]]).map((f) => ({
    id: f.id,
    score: Math.min(1, f.fused / best),
  }))
}

function keywordSearch(tenant: Tenant, s: ThreadSearch): Promise<ThreadSearchAnswer> {
  return withTenant(tenant, async (tx) => {
    const ranked = await keywordThreadRanking(tx, s, s.limit)
    const data = await threadsInOrder(
      tx,
      ranked.map((r) => ({ id: r.thread_id, score: r.rank })),
      s.limit,
    )
    return { data, search_type: 'keyword' as const }
  })
}

interface Scored {
  id: string
  score: number
}

/** The best `limit` threads, in the order ranked, read under the caller's policies. */
async function threadsInOrder(tx: Tx, ranked: Scored[], limit: number): Promise<ThreadSearchAnswer['data']> {
  const chosen = ranked.slice(0, limit)
  if (chosen.length === 0) return []
  const byId = new Map(
    (
      await threadsByIds(
        tx,
        chosen.map((c) => c.id),
      )
    ).map((r) => [r.thread_id, r]),
  )
  return chosen.flatMap((c) => {
    const row = byId.get(c.id)
    return row ? [{ ...row, score: c.score }] : []
  })
}
