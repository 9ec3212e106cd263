// Retrieval for chat: the passages of an agent's linked bases that best answer a user's message. Chat declares
// what it needs (a Retriever, _core/retrieval.ts) and functions/app.ts hands it this one.
//
// The search runs on the agent's behalf: in the caller's organisation, as the agent, with knowledge:read. Whoever
// may talk to an agent gets the answers its knowledge gives, as with any assistant, without the chat key itself
// needing knowledge:read; RLS still keeps the search inside the bases linked to that agent in that organisation.
import type { Tenant } from '../_core/db.ts'
import { withTenant } from '../_core/db.ts'
import { embeddingsFromEnv } from '../_core/embeddings/provider.ts'
import { readEnv } from '../_core/env.ts'
import { ApiError } from '../_core/errors.ts'
import type { Passage } from '../_core/retrieval.ts'
import { embedQuery, type QueryEmbedding, recordQueryEmbedding } from '../_core/search/query-embedding.ts'
import { fuseRankings } from '../_core/search/ranking.ts'
import { type RankedAnswer, rankBase, type SearchContext } from './search.ts'

/** How much of a message is searched for: a question, not a pasted document. */
const maxQueryChars = 2000
/** How deep each ranking of a base goes before fusion. */
const depth = 20

/**
 * The most bases one message searches (CHAT_KNOWLEDGE_MAX_BASES, default 8), the most recently updated
 * first: an agent linked to hundreds of bases must not fan a message out to hundreds of searches.
 */
function maxBases(): number {
  const n = Number(readEnv('CHAT_KNOWLEDGE_MAX_BASES') ?? 8)
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 100) : 8
}

export async function retrieveForAgent(tenant: Tenant, agentId: string, message: string, limit: number): Promise<Passage[]> {
  const asAgent: Tenant = {
    role: 'authenticated',
    sub: tenant.sub,
    org_id: tenant.org_id,
    agent_id: agentId,
    key_id: tenant.key_id,
    scopes: ['knowledge:read'],
  }
  // The one lookup an agent without bases costs: its statement, BEGIN and COMMIT go out in one write.
  const links = await withTenant(
    asAgent,
    (tx) => tx<{ base_id: string }[]>`
    select l.base_id from agentry.knowledge_base_agents l join agentry.knowledge_bases b on b.id = l.base_id
    where l.agent_id = ${agentId} order by b.updated_at desc, b.id limit ${maxBases()}`,
  )
  const query = Array.from(message.trim()).slice(0, maxQueryChars).join('')
  if (links.length === 0 || query === '') return []
  const embeddings = embeddingsFromEnv(readEnv)
  // One embedding of the message for every base, asked for while the bases are searched by keyword.
  const queryEmbedding = embeddings ? embedQuery(embeddings, query) : undefined
  queryEmbedding?.catch(() => {})
  const ctx: SearchContext = { tenant: asAgent, embeddings, queryEmbedding }
  const [found] = await Promise.all([
    Promise.all(links.map((link) => searchLinkedBase(ctx, link.base_id, query))),
    queryEmbedding ? recordOnce(asAgent, queryEmbedding) : undefined,
  ])
  // Every base's passages carry the same kind of score (fused ranks with vectors, keyword ranks without), so
  // the best of all bases are simply the highest; by keyword alone, those holding every word of the message
  // come first, as they do in each base. Equal scores (common with rank fusion: each base's best scores the
  // same) go to the passage closer in meaning, then to the better keyword match.
  return found
    .flat()
    .sort(
      (a, b) =>
        Number(b.allTerms) - Number(a.allTerms) ||
        b.passage.score - a.passage.score ||
        b.similarity - a.similarity ||
        b.keyword - a.keyword,
    )
    .slice(0, limit)
    .map((r) => r.passage)
}

/** The message's embedding is recorded once, whatever the number of bases it served; a failed one cost nothing. */
async function recordOnce(asAgent: Tenant, embedding: Promise<QueryEmbedding>): Promise<void> {
  const embedded = await embedding.catch(() => null)
  if (embedded) await recordQueryEmbedding(asAgent, embedded)
}

interface Ranked {
  passage: Passage
  similarity: number
  keyword: number
  /** Found by keyword alone holding every word of the message: ranked before those holding only some. */
  allTerms: boolean
}

/**
 * The least cosine similarity that lets a passage in on meaning alone (CHAT_KNOWLEDGE_MIN_SIMILARITY, default
 * 0.2): vector search ranks every chunk, so without it a greeting would be answered with the four least
 * unrelated passages. Passages sharing a word with the message need none.
 */
const minSimilarity = () => Number(readEnv('CHAT_KNOWLEDGE_MIN_SIMILARITY') ?? 0.2)

/**
 * One base's best passages: the keyword ranking of the query route (the chunks holding every word of the
 * message, then those holding any of them), fused by reciprocal rank with the vector ranking of its meaning,
 * as the hybrid query route fuses them. Without an embeddings provider the keyword ranking alone decides.
 */
async function searchLinkedBase(ctx: SearchContext, baseId: string, query: string): Promise<Ranked[]> {
  const keyword = rankBase(ctx, baseId, { query, limit: depth, mode: 'keyword', filter: {} })
  // A reply grounded on keywords beats no reply: a failing embeddings provider, or a base indexed with another
  // model, leaves the keyword ranking to decide (the query route answers those with 502 and 409).
  const semantic = ctx.embeddings
    ? rankBase(ctx, baseId, { query, limit: depth, mode: 'semantic', score_threshold: minSimilarity(), filter: {} }).catch((error) => {
        if (error instanceof ApiError) return null
        throw error
      })
    : null
  const [byWords, byMeaning] = await Promise.all([keyword, semantic])
  const vectorsRan = byMeaning?.search_type === 'semantic'
  if (!vectorsRan) {
    return byWords.results.map((r) => rankedOf(baseId, r, r.scores.keyword ?? 0, byWords.allTerms.has(r.chunk_id)))
  }
  const answers: RankedAnswer[] = [byWords, byMeaning]
  const chunks = new Map(answers.flatMap((a) => a.results.map((r) => [r.chunk_id, r] as const)))
  const similarity = new Map(byMeaning.results.map((r) => [r.chunk_id, r.scores.vector ?? 0]))
  return fuseRankings(answers.map((a) => a.results.map((r) => r.chunk_id))).map((f) => {
    const ranked = rankedOf(baseId, chunks.get(f.id)!, f.fused, false)
    return { ...ranked, similarity: similarity.get(f.id) ?? ranked.similarity }
  })
}

function rankedOf(baseId: string, r: RankedAnswer['results'][number], score: number, allTerms: boolean): Ranked {
  return {
    passage: { base_id: baseId, item_id: r.item_id, chunk_id: r.chunk_id, title: r.title, position: r.position, text: r.text, score },
    similarity: r.scores.vector ?? -1,
    keyword: r.scores.keyword ?? 0,
    allTerms,
  }
}
