// The pgvector half of sql/20261130000014_knowledge_search.sql, run on PGlite (PostgreSQL in WebAssembly,
// which ships pgvector): the embedded PostgreSQL of the other tests has no pgvector. The block between the
// migration's `pgvector:begin` and `pgvector:end` markers runs on a knowledge_chunks table of the columns
// it reads, and its nearest chunks must be the in-memory search's, over the same stored vectors.
import fs from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite/vector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { vectorToBytes } from '../../functions/_core/embeddings/vectors.ts'
import { allocateMatrix } from '../../functions/_core/search/matrix.ts'
import { topRows } from '../../functions/_core/search/ranking.ts'
import { type LoadedVectors, similarities } from '../../functions/_core/search/vectors.ts'

const migration = fs.readFileSync(new URL('../../sql/20261130000014_knowledge_search.sql', import.meta.url), 'utf8')
const between = (start: string, end: string) => migration.slice(migration.indexOf(start), migration.indexOf(end))

const dims = 384
const baseA = '00000000-0000-4000-8000-00000000000a'
const baseB = '00000000-0000-4000-8000-00000000000b'
const orgA = '00000000-0000-4000-8000-0000000000a0'
const orgB = '00000000-0000-4000-8000-0000000000b0'

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

function unitVector(next: () => number): Float32Array {
  const v = Float32Array.from({ length: dims }, () => next() * 2 - 1)
  const length = Math.hypot(...v)
  return v.map((x) => x / length)
}

interface Chunk {
  id: string
  base: string
  namespace: string
  metadata: { lang: string }
  vector: Float32Array
}

let db: PGlite
const chunks: Chunk[] = []

beforeAll(async () => {
  db = new PGlite({ extensions: { vector } })
  // The tables and claims the block reads, reduced to what it needs: one organisation's credential with the
  // knowledge scopes, which may read base A and not base B (another organisation's).
  await db.exec(`
    create role authenticated;
    create schema agentry;
    create table agentry.knowledge_bases (id uuid primary key, org_id uuid not null);
    create table agentry.knowledge_base_agents (base_id uuid, agent_id uuid);
    create table agentry.knowledge_chunks (
      id uuid primary key, base_id uuid not null, namespace text, metadata jsonb not null default '{}', embedding bytea);
    insert into agentry.knowledge_bases values ('${baseA}', '${orgA}'), ('${baseB}', '${orgB}');
    create function agentry.claim_org_id() returns uuid language sql as $$ select '${orgA}'::uuid $$;
    create function agentry.claim_agent_id() returns uuid language sql as $$ select null::uuid $$;
    create function agentry.claim_has_scope(text) returns boolean language sql as $$ select $1 = 'knowledge:read' $$;`)
  await db.exec(between('create or replace function agentry.can_read_knowledge_base', '-- Keyword ranking'))
  await db.exec(between('create or replace function agentry.float4_array_of', '-- pgvector:begin'))
  const block = between('-- pgvector:begin', '-- pgvector:end')
  await db.exec(block)
  // The migration is re-runnable.
  await db.exec(block)
  const next = random(11)
  for (let i = 0; i < 300; i++) {
    chunks.push({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      base: i % 3 === 0 ? baseB : baseA,
      namespace: ['sales', 'support'][i % 2],
      metadata: { lang: ['en', 'de', 'fr'][i % 5 === 0 ? 1 : i % 7 === 0 ? 2 : 0] },
      vector: unitVector(next),
    })
  }
  for (const c of chunks) {
    await db.query('insert into agentry.knowledge_chunks (id, base_id, namespace, metadata, embedding) values ($1, $2, $3, $4, $5)', [
      c.id,
      c.base,
      c.namespace,
      JSON.stringify(c.metadata),
      vectorToBytes(c.vector),
    ])
  }
}, 120_000)
afterAll(() => db?.close())

/** The in-memory search over the same chunks: the API's own matrix, scoring and top-k. */
function inMemoryNearest(query: Float32Array, k: number, keep: (c: Chunk) => boolean) {
  const kept = chunks.filter(keep).sort((a, b) => (a.id < b.id ? -1 : 1))
  const matrix = allocateMatrix(kept.length, dims)
  kept.forEach((c, r) => {
    matrix.values.set(c.vector, r * dims)
  })
  const inverseNorms = Float32Array.from(kept, (c) => 1 / Math.hypot(...c.vector))
  const ids = kept.map((c) => c.id)
  const vectors: LoadedVectors = { version: '1', dims, ids, matrix, inverseNorms, rowOf: (id) => ids.indexOf(id) }
  const scores = similarities(vectors, query)
  return topRows(scores, k).map((r) => ({ id: ids[r], similarity: scores[r] }))
}

async function pgvectorNearest(query: Float32Array, k: number, namespace: string | null = null, metadata: object | null = null) {
  const { rows } = await db.query<{ id: string; similarity: number }>(
    'select id, similarity from agentry.nearest_knowledge_chunks($1, $2::real[], $3, $4, $5::jsonb)',
    [baseA, Array.from(query), k, namespace, metadata === null ? null : JSON.stringify(metadata)],
  )
  return rows
}

describe('the pgvector search of the migration', () => {
  it('stores each embedding as the exact floats its bytes hold', async () => {
    const { rows } = await db.query<{ floats: number[]; vec: string }>(
      'select agentry.float4_array_of(embedding) as floats, embedding_vec::text as vec from agentry.knowledge_chunks where id = $1',
      [chunks[0].id],
    )
    expect(Float32Array.from(rows[0].floats)).toEqual(chunks[0].vector)
    expect(Float32Array.from(JSON.parse(rows[0].vec))).toEqual(chunks[0].vector)
  })

  it('finds the same top 10 as the in-memory search, with the same similarities', async () => {
    const next = random(99)
    for (let q = 0; q < 5; q++) {
      const query = unitVector(next)
      const expected = inMemoryNearest(query, 10, (c) => c.base === baseA)
      const found = await pgvectorNearest(query, 10)
      expect(found.map((f) => f.id)).toEqual(expected.map((e) => e.id))
      found.forEach((f, i) => {
        expect(f.similarity).toBeCloseTo(expected[i].similarity, 5)
      })
    }
  })

  it('finds the same through the HNSW index as by a full scan', async () => {
    const query = unitVector(random(5))
    const indexed = await db.transaction(async (tx) => {
      await tx.exec('set local enable_seqscan = off')
      const { rows } = await tx.query<{ 'QUERY PLAN': string }>(
        `explain select id from agentry.knowledge_chunks c where c.base_id = $1 and vector_dims(c.embedding_vec) = 384
         order by c.embedding_vec::vector(384) <=> $2::vector(384) limit 10`,
        [baseA, JSON.stringify(Array.from(query))],
      )
      const found = await tx.query<{ id: string }>('select id from agentry.nearest_knowledge_chunks($1, $2::real[], 10)', [
        baseA,
        Array.from(query),
      ])
      return { plan: rows.map((r) => r['QUERY PLAN']).join('\n'), ids: found.rows.map((r) => r.id) }
    })
    expect(indexed.plan).toMatch(/knowledge_chunks_vec_384/)
    expect(indexed.ids).toEqual(inMemoryNearest(query, 10, (c) => c.base === baseA).map((e) => e.id))
  })

  it('keeps to a namespace and to metadata containment, as the in-memory search does', async () => {
    const query = unitVector(random(123))
    const byNamespace = await pgvectorNearest(query, 5, 'support')
    expect(byNamespace.map((f) => f.id)).toEqual(
      inMemoryNearest(query, 5, (c) => c.base === baseA && c.namespace === 'support').map((e) => e.id),
    )
    const byMetadata = await pgvectorNearest(query, 5, null, { lang: 'de' })
    expect(byMetadata.map((f) => f.id)).toEqual(
      inMemoryNearest(query, 5, (c) => c.base === baseA && c.metadata.lang === 'de').map((e) => e.id),
    )
  })

  it("finds nothing in a base the caller may not read (another organisation's)", async () => {
    const { rows } = await db.query('select id from agentry.nearest_knowledge_chunks($1, $2::real[], 10)', [
      baseB,
      Array.from(unitVector(random(4))),
    ])
    expect(rows).toEqual([])
    const theirs = chunks.filter((c) => c.base === baseB).slice(0, 2)
    const scored = await db.query('select id from agentry.knowledge_chunk_similarities($1::uuid[], $2::real[])', [
      theirs.map((c) => c.id),
      Array.from(unitVector(random(4))),
    ])
    expect(scored.rows).toEqual([])
  })

  it('scores chosen chunks for a hybrid answer', async () => {
    const query = unitVector(random(8))
    const chosen = [chunks[1], chunks[2]]
    const { rows } = await db.query<{ id: string; similarity: number }>(
      'select id, similarity from agentry.knowledge_chunk_similarities($1::uuid[], $2::real[]) order by id',
      [chosen.map((c) => c.id), Array.from(query)],
    )
    const all = inMemoryNearest(query, 300, () => true)
    expect(rows.map((r) => r.id)).toEqual(chosen.map((c) => c.id))
    rows.forEach((r) => {
      expect(r.similarity).toBeCloseTo(all.find((a) => a.id === r.id)!.similarity, 5)
    })
  })
})
