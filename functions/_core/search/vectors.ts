// Exact vector search in this process: a set of stored vectors (float32 little-endian, see
// _core/embeddings/vectors.ts) loaded as one matrix and scored against a query, a streaming scan for sets
// too large to keep, and a cache of loaded sets bounded in bytes (least recently used leave first), each kept
// at a version its owner moves whenever the set changes. Knowledge bases and email search both use it; each
// says where its vectors come from.
import { allocateMatrix, type VectorMatrix } from './matrix.ts'
import { topRows } from './ranking.ts'

/** A set's vectors at one version: row r is ids[r] (ids ascending). */
export interface LoadedVectors {
  readonly version: string
  readonly dims: number
  readonly ids: readonly string[]
  readonly matrix: VectorMatrix
  /** 1 / ‖row‖ (0 for a zero vector), so scores are true cosines even for vectors not quite normalised. */
  readonly inverseNorms: Float32Array
  /** The row of an id, when the set holds it. */
  rowOf(id: string): number | undefined
}

/** Cosine similarity of every row with `query`, in the matrix's reused buffer: read it before awaiting. */
export function similarities(vectors: LoadedVectors, query: Float32Array): Float32Array {
  let sum = 0
  for (let j = 0; j < query.length; j++) sum += query[j] * query[j]
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0
  const scores = vectors.matrix.dotAll(query)
  const inverse = vectors.inverseNorms
  for (let r = 0; r < scores.length; r++) scores[r] *= inverse[r] * scale
  return scores
}

/** How many rows a cursor over stored vectors should fetch at a time. */
export const vectorBatchRows = 2000

/** A stored vector, with the version of its set and the set's size when its source knows them. */
export interface VectorRow {
  id: string
  embedding: Uint8Array
  version?: string
  vectors?: number
}

/** Stored vectors in id order, batch by batch (a cursor), all read in one snapshot. */
export type VectorBatches = AsyncIterable<readonly VectorRow[]>

/** Copies a stored embedding (float32 little-endian) into `target` at `offset`. */
function copyEmbedding(embedding: Uint8Array, target: Float32Array, offset: number): void {
  new Uint8Array(target.buffer, target.byteOffset + offset * 4, embedding.byteLength).set(embedding)
}

/** Loads a set's vectors; null when it has none. */
export async function loadVectors(batches: VectorBatches, expectedRows: number): Promise<LoadedVectors | null> {
  let matrix: VectorMatrix | undefined
  let version = ''
  let dims = 0
  const ids: string[] = []
  for await (const batch of batches) {
    for (const row of batch) {
      if (!matrix) {
        version = row.version ?? ''
        dims = row.embedding.byteLength / 4
        matrix = allocateMatrix(Math.max(row.vectors ?? 0, expectedRows, 1), dims)
      }
      // A vector of another size cannot be compared with the rest.
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

function shaped(version: string, dims: number, ids: string[], matrix: VectorMatrix): LoadedVectors {
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
 * The `k` ids most similar to `query`, scored batch by batch as the vectors stream in, for a set too large
 * to keep; `only` restricts them to these ids.
 */
export async function scanNearest(
  batches: VectorBatches,
  query: Float32Array,
  k: number,
  only?: ReadonlySet<string>,
): Promise<{ id: string; similarity: number }[]> {
  let best: { id: string; similarity: number }[] = []
  let matrix: VectorMatrix | undefined
  for await (const batch of batches) {
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
  vectors?: LoadedVectors
  loading?: Promise<LoadedVectors | null>
  version: string
  bytes: number
}

/** The sets of vectors this process keeps, least recently used first (a Map keeps insertion order). */
export class VectorCache {
  private readonly kept = new Map<string, Kept>()

  constructor(private readonly limitBytes: number) {}

  /** Whether a set of this many vectors fits the bound at all. */
  fits(rows: number, dims: number): boolean {
    return rows * (dims + 1) * 4 <= this.limitBytes
  }

  /**
   * The set's vectors at `version`: the copy kept, or loaded by `load` (one load per set and version
   * however many queries ask at once). A load that finds the set has moved on since is still exact for the
   * snapshot it read; the next query's version check replaces it.
   */
  async vectorsOf(key: string, version: string, load: () => Promise<LoadedVectors | null>): Promise<LoadedVectors | null> {
    const entry = this.kept.get(key)
    if (entry && entry.version === version) {
      this.kept.delete(key)
      this.kept.set(key, entry)
      return entry.vectors ?? (await entry.loading!)
    }
    const loading = load()
    const fresh: Kept = { loading, version, bytes: 0 }
    this.kept.delete(key)
    this.kept.set(key, fresh)
    try {
      const vectors = await loading
      if (this.kept.get(key) === fresh) {
        fresh.vectors = vectors ?? undefined
        fresh.loading = undefined
        fresh.bytes = vectors ? vectors.matrix.bytes + vectors.inverseNorms.byteLength + vectors.ids.length * 64 : 0
        if (!vectors) this.kept.delete(key)
        this.evictBeyondBound(key)
      }
      return vectors
    } catch (error) {
      if (this.kept.get(key) === fresh) this.kept.delete(key)
      throw error
    }
  }

  /** Bytes held by the loaded sets. */
  get bytes(): number {
    let total = 0
    for (const entry of this.kept.values()) total += entry.bytes
    return total
  }

  has(key: string): boolean {
    return this.kept.get(key)?.vectors !== undefined
  }

  private evictBeyondBound(keep: string): void {
    for (const [key] of this.kept) {
      if (this.bytes <= this.limitBytes) return
      if (key !== keep) this.kept.delete(key)
    }
  }
}
