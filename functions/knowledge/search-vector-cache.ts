// Exact vector search without pgvector: each base's vectors are kept in this process as one matrix, loaded
// under the caller's RLS and reloaded when the base's vector version (agentry.knowledge_base_vectors, moved
// by a trigger on every change to its chunks) differs from the one loaded. Fetching 100k vectors per query
// would cost seconds; the version check is one indexed row read with the query's other statements. The
// bases kept are bounded in bytes (KNOWLEDGE_VECTOR_CACHE_MB, least recently used leave first); a base larger
// than the whole bound is scored batch by batch as its vectors stream in, exact but slow. An Edge isolate
// lives too briefly to keep anything: there the search uses pgvector.
import type { Tx } from '../_core/db.ts'
import { readEnv } from '../_core/env.ts'
import { allocateMatrix, type VectorMatrix } from './search-matrix.ts'
import { topRows } from './search-ranking.ts'

/** A base's vectors at one version: row r is chunk ids[r] (ids ascending). */
export interface BaseVectors {
  readonly version: string
  readonly dims: number
  readonly ids: readonly string[]
  readonly matrix: VectorMatrix
  /** 1 / ‖row‖ (0 for a zero vector), so scores are true cosines even for vectors not quite normalised. */
  readonly inverseNorms: Float32Array
  /** The row of a chunk id, when the base holds it. */
  rowOf(id: string): number | undefined
}

/** Cosine similarity of every row with `query`, in the matrix's reused buffer: read it before awaiting. */
export function similarities(vectors: BaseVectors, query: Float32Array): Float32Array {
  let sum = 0
  for (let j = 0; j < query.length; j++) sum += query[j] * query[j]
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0
  const scores = vectors.matrix.dotAll(query)
  const inverse = vectors.inverseNorms
  for (let r = 0; r < scores.length; r++) scores[r] *= inverse[r] * scale
  return scores
}

const batchRows = 2000

interface VectorRow {
  id: string
  embedding: Uint8Array
}

/** The base's embedded chunks in id order, with the version they were read at (one statement, one snapshot). */
function vectorRows(tx: Tx, baseId: string) {
  return tx<(VectorRow & { version: string; vectors: number })[]>`
    select v.version::text as version, v.vectors::int as vectors, c.id, c.embedding
    from agentry.knowledge_chunks c
    join agentry.knowledge_base_vectors v on v.base_id = c.base_id
    where c.base_id = ${baseId} and c.embedding is not null
    order by c.id`.cursor(batchRows)
}

/** Copies a stored embedding (float32 little-endian) into `target` at `offset`. */
function copyEmbedding(embedding: Uint8Array, target: Float32Array, offset: number): void {
  new Uint8Array(target.buffer, target.byteOffset + offset * 4, embedding.byteLength).set(embedding)
}

/** Loads a base's vectors; null when it has none of the expected size. */
export async function loadBaseVectors(tx: Tx, baseId: string, expectedRows: number): Promise<BaseVectors | null> {
  let matrix: VectorMatrix | undefined
  let version = ''
  let dims = 0
  const ids: string[] = []
  for await (const batch of vectorRows(tx, baseId)) {
    for (const row of batch) {
      if (!matrix) {
        version = row.version
        dims = row.embedding.byteLength / 4
        matrix = allocateMatrix(Math.max(row.vectors, expectedRows), dims)
      }
      // A vector of another size cannot be compared with the rest (the base's dimensions are fixed).
      if (row.embedding.byteLength !== dims * 4) continue
      if (ids.length === matrix.rows) matrix = grown(matrix, ids.length * 2)
      copyEmbedding(row.embedding, matrix.values, ids.length * dims)
      ids.push(row.id)
    }
  }
  if (!matrix || ids.length === 0) return null
  if (ids.length < matrix.rows) matrix = grown(matrix, ids.length)
  return shaped(version, dims, ids, matrix)
}

function grown(matrix: VectorMatrix, rows: number): VectorMatrix {
  const next = allocateMatrix(rows, matrix.dims)
  next.values.set(matrix.values.subarray(0, Math.min(rows, matrix.rows) * matrix.dims))
  return next
}

function shaped(version: string, dims: number, ids: string[], matrix: VectorMatrix): BaseVectors {
  const inverseNorms = new Float32Array(ids.length)
  const m = matrix.values
  for (let r = 0; r < ids.length; r++) {
    let sum = 0
    for (let j = r * dims, end = j + dims; j < end; j++) sum += m[j] * m[j]
    inverseNorms[r] = sum > 0 ? 1 / Math.sqrt(sum) : 0
  }
  let rows: Map<string, number> | undefined
  return {
    version,
    dims,
    ids,
    matrix,
    inverseNorms,
    rowOf(id) {
      rows ??= new Map(ids.map((chunkId, r) => [chunkId, r]))
      return rows.get(id)
    },
  }
}

/**
 * The `k` chunks most similar to `query`, scored batch by batch as the base's vectors stream in, for a base
 * too large to keep; `only` restricts them to these chunk ids.
 */
export async function scanNearest(
  tx: Tx,
  baseId: string,
  query: Float32Array,
  k: number,
  only?: ReadonlySet<string>,
): Promise<{ id: string; similarity: number }[]> {
  let best: { id: string; similarity: number }[] = []
  let matrix: VectorMatrix | undefined
  for await (const batch of vectorRows(tx, baseId)) {
    const rows = batch.filter((row) => row.embedding.byteLength === query.length * 4 && (!only || only.has(row.id)))
    if (!rows.length) continue
    if (!matrix || matrix.rows !== rows.length) matrix = allocateMatrix(rows.length, query.length)
    for (let r = 0; r < rows.length; r++) copyEmbedding(rows[r].embedding, matrix.values, r * query.length)
    const ids = rows.map((row) => row.id)
    const scores = similarities(shaped('', query.length, ids, matrix), query)
    const found = topRows(scores, k).map((r) => ({ id: ids[r], similarity: scores[r] }))
    best = [...best, ...found].sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : 1)).slice(0, k)
  }
  return best
}

interface Kept {
  vectors?: BaseVectors
  loading?: Promise<BaseVectors | null>
  version: string
  bytes: number
}

/** The bases' vectors this process keeps, least recently used first (a Map keeps insertion order). */
export class VectorCache {
  private readonly kept = new Map<string, Kept>()

  constructor(private readonly limitBytes: number) {}

  /** Whether a base of this many vectors fits the bound at all. */
  fits(rows: number, dims: number): boolean {
    return rows * (dims + 1) * 4 <= this.limitBytes
  }

  /**
   * The base's vectors at `version`: the copy kept, or loaded by `load` (one load per base and version
   * however many queries ask at once). A load that finds the base has moved on since is still exact for the
   * snapshot it read; the next query's version check replaces it.
   */
  async vectorsOf(baseId: string, version: string, load: () => Promise<BaseVectors | null>): Promise<BaseVectors | null> {
    const entry = this.kept.get(baseId)
    if (entry && entry.version === version) {
      this.kept.delete(baseId)
      this.kept.set(baseId, entry)
      return entry.vectors ?? (await entry.loading!)
    }
    const loading = load()
    const fresh: Kept = { loading, version, bytes: 0 }
    this.kept.delete(baseId)
    this.kept.set(baseId, fresh)
    try {
      const vectors = await loading
      if (this.kept.get(baseId) === fresh) {
        fresh.vectors = vectors ?? undefined
        fresh.loading = undefined
        fresh.bytes = vectors ? vectors.matrix.bytes + vectors.inverseNorms.byteLength + vectors.ids.length * 64 : 0
        if (!vectors) this.kept.delete(baseId)
        this.evictBeyondBound(baseId)
      }
      return vectors
    } catch (error) {
      if (this.kept.get(baseId) === fresh) this.kept.delete(baseId)
      throw error
    }
  }

  /** Bytes held by the loaded bases. */
  get bytes(): number {
    let total = 0
    for (const entry of this.kept.values()) total += entry.bytes
    return total
  }

  has(baseId: string): boolean {
    return this.kept.get(baseId)?.vectors !== undefined
  }

  private evictBeyondBound(keep: string): void {
    for (const [baseId] of this.kept) {
      if (this.bytes <= this.limitBytes) return
      if (baseId !== keep) this.kept.delete(baseId)
    }
  }
}

let shared: VectorCache | undefined

/** This process's cache, bounded by KNOWLEDGE_VECTOR_CACHE_MB (default 512). */
export function vectorCache(): VectorCache {
  const mb = Number(readEnv('KNOWLEDGE_VECTOR_CACHE_MB') ?? 512)
  shared ??= new VectorCache((Number.isFinite(mb) && mb >= 0 ? mb : 512) * 1024 * 1024)
  return shared
}
