// The knowledge base `npm run bench` searches: 100k chunks (by default) of 384 dimensions, written straight
// into the tables by SQL (no indexing job), embedded by the same deterministic fake the API asks for query
// embeddings on loopback; and the latency of one query at a time through POST /bases/{id}/query in each
// mode, against the same work done bare: the keyword statement straight from postgres.js, and the exact
// vector scoring in this process over the same vectors.
import type postgres from 'postgres'
import { vectorToBytes } from '../../functions/_core/embeddings/vectors.ts'
import { allocateMatrix } from '../../functions/_core/search/matrix.ts'
import { fusionDepth, topRows } from '../../functions/_core/search/ranking.ts'
import { fakeVector, startFakeEmbeddings, type FakeEmbeddings } from '../../tests/harness/fake-embeddings.ts'

export const benchDimensions = 384
const chunksPerItem = 10
const wordsPerChunk = 60

/** A fixed vocabulary; words are drawn with a skew (a few common, most rare), as in real text. */
const vocabulary = Array.from({ length: 3000 }, (_, i) => syllables(i))

function syllables(n: number): string {
  const parts = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'pa', 'do', 'fi', 'gu', 'he', 'jo', 'be']
  let word = ''
  for (let x = n + 16; x > 0; x = Math.floor(x / 16)) word += parts[x % 16]
  return word
}

/** mulberry32: deterministic, so every run searches the same corpus. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function words(next: () => number, count: number): string {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(vocabulary[Math.floor(vocabulary.length * next() ** 2)])
  return out.join(' ')
}

export interface BenchBase {
  id: string
  chunks: number
  /** Queries of two or three words, drawn like the chunks' words. */
  queries: string[]
}

/** Creates the base, its items and chunks in batches of 1,000 rows, then gathers statistics. */
export async function seedBenchKnowledge(sql: postgres.Sql, orgId: string, chunks: number): Promise<BenchBase> {
  const [base] = await sql<{ id: string }[]>`
    insert into agentry.knowledge_bases (org_id, name, embedding_model, embedding_dimensions)
    values (${orgId}, 'Bench handbook', 'bench-embed', ${benchDimensions}) returning id`
  const items = Math.ceil(chunks / chunksPerItem)
  const itemIds = (
    await sql<{ id: string }[]>`
      insert into agentry.knowledge_items (org_id, base_id, title, content, text, status, namespace)
      select ${orgId}, ${base.id}, 'Document ' || g, '', '', 'ready', (array['sales', 'support', 'legal'])[1 + g % 3]
      from generate_series(1, ${items}) g
      returning id`
  ).map((r) => r.id)
  const next = random(42)
  for (let start = 0; start < chunks; start += 1000) {
    const rows = []
    for (let i = start; i < Math.min(chunks, start + 1000); i++) {
      const text = words(next, wordsPerChunk)
      rows.push({
        org_id: orgId,
        base_id: base.id,
        item_id: itemIds[Math.floor(i / chunksPerItem)],
        position: i % chunksPerItem,
        title: `Document ${Math.floor(i / chunksPerItem) + 1}`,
        text,
        namespace: ['sales', 'support', 'legal'][(Math.floor(i / chunksPerItem) + 1) % 3],
        content_version: 1,
        embedding: vectorToBytes(fakeVector(text, benchDimensions)),
        embedding_model: 'bench-embed',
      })
    }
    await sql`insert into agentry.knowledge_chunks ${sql(rows as never)}`
  }
  await sql`analyze agentry.knowledge_chunks`
  const queries = Array.from({ length: 50 }, (_, i) => words(next, 2 + (i % 2)))
  return { id: base.id, chunks, queries }
}

/** The fake the API embeds queries with, answering as the bench's model. */
export function startBenchEmbeddings(): Promise<FakeEmbeddings> {
  return startFakeEmbeddings({ dimensions: benchDimensions, model: 'bench-embed' })
}

export interface Latency {
  requests: number
  p50_ms: number
  p99_ms: number
  mean_ms: number
  /** Results per answer, on average: a search that finds nothing is cheap and would flatter the figures. */
  mean_results: number
}

/** Runs `op` `count` times one after another (a query's latency, not the server's throughput under load). */
export async function sequentialLatency(count: number, op: (i: number) => Promise<number>): Promise<Latency> {
  const times: number[] = []
  let results = 0
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    results += await op(i)
    times.push(performance.now() - start)
  }
  const sorted = Float64Array.from(times).sort()
  const at = (p: number) => round2(sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)])
  return {
    requests: count,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    mean_ms: round2(times.reduce((a, b) => a + b, 0) / count),
    mean_results: round2(results / count),
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}

/** The keyword statement the API runs, straight from postgres.js on the service connection (no RLS). */
export function bareKeyword(sql: postgres.Sql, baseId: string, query: string, limit: number) {
  return sql<{ id: string }[]>`
    select c.id, ts_rank_cd(c.tsv, q)::float8 as rank
    from agentry.knowledge_chunks c, websearch_to_tsquery('english', ${query}) q
    where c.base_id = ${baseId} and c.tsv @@ q
    order by rank desc, c.id
    limit ${limit}`
}

/**
 * The base's vectors in this process, as the API keeps them, and the exact top-k of a query over them: the
 * vector search with no HTTP, authentication, database or embeddings call around it.
 */
export async function bareVectors(sql: postgres.Sql, baseId: string) {
  const rows = await sql<{ embedding: Uint8Array }[]>`
    select embedding from agentry.knowledge_chunks where base_id = ${baseId} and embedding is not null order by id`
  const matrix = allocateMatrix(rows.length, benchDimensions)
  rows.forEach((row, r) => {
    new Uint8Array(matrix.values.buffer, matrix.values.byteOffset + r * benchDimensions * 4, row.embedding.byteLength).set(row.embedding)
  })
  return {
    nearest(query: string, limit: number): number[] {
      return topRows(matrix.dotAll(fakeVector(query, benchDimensions)), fusionDepth(limit))
    },
  }
}
