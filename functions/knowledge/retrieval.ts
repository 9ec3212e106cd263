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
import { type SearchAnswer, type SearchContext, searchBase } from './search.ts'
import { fuseRankings } from './search-ranking.ts'

/** How much of a message is searched for: a question, not a pasted document. */
const maxQueryChars = 2000
/** How deep each ranking of a base goes before fusion. */
const depth = 20

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
    select base_id from agentry.knowledge_base_agents where agent_id = ${agentId} order by base_id`,
  )
  const query = Array.from(message.trim()).slice(0, maxQueryChars).join('')
  if (links.length === 0 || query === '') return []
  const ctx: SearchContext = { tenant: asAgent, embeddings: embeddingsFromEnv(readEnv) }
  const found = await Promise.all(links.map((link) => searchLinkedBase(ctx, link.base_id, query)))
  // Every base's passages carry the same kind of score (fused ranks with vectors, keyword ranks without), so
  // the best of all bases are simply the highest. Equal scores (common with rank fusion: each base's best
  // scores the same) go to the passage closer in meaning, then to the better keyword match.
  return found
    .flat()
    .sort((a, b) => b.passage.score - a.passage.score || b.similarity - a.similarity || b.keyword - a.keyword)
    .slice(0, limit)
    .map((r) => r.passage)
}

interface Ranked {
  passage: Passage
  similarity: number
  keyword: number
}

/**
 * The least cosine similarity that lets a passage in on meaning alone (CHAT_KNOWLEDGE_MIN_SIMILARITY, default
 * 0.2): vector search ranks every chunk, so without it a greeting would be answered with the four least
 * unrelated passages. Passages sharing a word with the message need none.
 */
const minSimilarity = () => Number(readEnv('CHAT_KNOWLEDGE_MIN_SIMILARITY') ?? 0.2)

/**
 * One base's best passages. A message is a question, not search syntax: keyword search is given its words as
 * alternatives (websearch syntax `a or b`), since requiring every word of a question would rarely match a
 * passage, while vector search is given the question itself; the two rankings are fused by reciprocal rank
 * as the hybrid query route fuses them. Without an embeddings provider the keyword ranking alone decides.
 */
async function searchLinkedBase(ctx: SearchContext, baseId: string, query: string): Promise<Ranked[]> {
  const words = anyWordOf(query)
  const keyword = words ? searchBase(ctx, baseId, { query: words, limit: depth, mode: 'keyword', filter: {} }) : null
  // A reply grounded on keywords beats no reply: a failing embeddings provider, or a base indexed with another
  // model, leaves the keyword ranking to decide (the query route answers those with 502 and 409).
  const semantic = ctx.embeddings
    ? searchBase(ctx, baseId, { query, limit: depth, mode: 'semantic', score_threshold: minSimilarity(), filter: {} }).catch((error) => {
        if (error instanceof ApiError) return null
        throw error
      })
    : null
  const [byWords, byMeaning] = await Promise.all([keyword, semantic])
  const vectorsRan = byMeaning?.search_type === 'semantic'
  const answers = [byWords, vectorsRan ? byMeaning : null].filter((a): a is SearchAnswer => a !== null)
  const chunks = new Map(answers.flatMap((a) => a.results.map((r) => [r.chunk_id, r] as const)))
  if (!vectorsRan) {
    return (byWords?.results ?? []).map((r) => rankedOf(baseId, r, r.scores.keyword ?? 0))
  }
  const similarity = new Map(byMeaning.results.map((r) => [r.chunk_id, r.scores.vector ?? 0]))
  return fuseRankings(answers.map((a) => a.results.map((r) => r.chunk_id))).map((f) => {
    const ranked = rankedOf(baseId, chunks.get(f.id)!, f.fused)
    return { ...ranked, similarity: similarity.get(f.id) ?? ranked.similarity }
  })
}

/** The message's words joined as alternatives; null when it has none. */
function anyWordOf(query: string): string | null {
  // "or" itself is the operator, and a stop word anyway.
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].filter((w) => w !== 'or').slice(0, 64)
  return words.length ? words.join(' or ') : null
}

function rankedOf(baseId: string, r: SearchAnswer['results'][number], score: number): Ranked {
  return {
    passage: { base_id: baseId, item_id: r.item_id, chunk_id: r.chunk_id, title: r.title, position: r.position, text: r.text, score },
    similarity: r.scores.vector ?? -1,
    keyword: r.scores.keyword ?? 0,
  }
}
