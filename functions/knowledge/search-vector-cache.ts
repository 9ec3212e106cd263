// Where knowledge search finds its vectors for the in-memory search (_core/search/vectors.ts): a base's
// embedded chunks, kept in this process's cache until the base's version (agentry.knowledge_base_vectors,
// moved by a trigger on every change to its chunks) differs from the one loaded. Fetching 100k vectors per
// query would cost seconds; the version check is one indexed row read with the query's other statements. The
// bases kept are bounded in bytes (KNOWLEDGE_VECTOR_CACHE_MB); a base larger than the whole bound is scored
// batch by batch as its vectors stream in, exact but slow. An Edge isolate lives too briefly to keep
// anything: there the search uses pgvector.
import type { Tx } from '../_core/db.ts'
import { readEnv } from '../_core/env.ts'
import { type LoadedVectors, loadVectors, scanNearest, VectorCache, vectorBatchRows, type VectorBatches } from '../_core/search/vectors.ts'

/** The base's embedded chunks in id order, with the version they were read at (one statement, one snapshot). */
function baseVectorRows(tx: Tx, baseId: string): VectorBatches {
  return tx<{ version: string; vectors: number; id: string; embedding: Uint8Array }[]>`
    select v.version::text as version, v.vectors::int as vectors, c.id, c.embedding
    from agentry.knowledge_chunks c
    join agentry.knowledge_base_vectors v on v.base_id = c.base_id
    where c.base_id = ${baseId} and c.embedding is not null
    order by c.id`.cursor(vectorBatchRows)
}

/** Loads a base's vectors; null when it has none. */
export function loadBaseVectors(tx: Tx, baseId: string, expectedRows: number): Promise<LoadedVectors | null> {
  return loadVectors(baseVectorRows(tx, baseId), expectedRows)
}

/** The `k` chunks of a base most similar to `query`, streamed; `only` restricts them to these chunk ids. */
export function scanBaseNearest(tx: Tx, baseId: string, query: Float32Array, k: number, only?: ReadonlySet<string>) {
  return scanNearest(baseVectorRows(tx, baseId), query, k, only)
}

let shared: VectorCache | undefined

/** This process's cache of bases' vectors, bounded by KNOWLEDGE_VECTOR_CACHE_MB (default 512). */
export function vectorCache(): VectorCache {
  const mb = Number(readEnv('KNOWLEDGE_VECTOR_CACHE_MB') ?? 512)
  shared ??= new VectorCache((Number.isFinite(mb) && mb >= 0 ? mb : 512) * 1024 * 1024)
  return shared
}
