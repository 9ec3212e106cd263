import { afterEach, describe, expect, it } from 'vitest'
import { allocateMatrix, disableSimdKernel } from '../../../functions/_core/search/matrix.ts'
import { fuseRankings, topRows } from '../../../functions/_core/search/ranking.ts'
import { type LoadedVectors, VectorCache } from '../../../functions/_core/search/vectors.ts'

/** mulberry32: the same numbers every run. */
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

function randomMatrix(rows: number, dims: number, seed: number) {
  const next = random(seed)
  const matrix = allocateMatrix(rows, dims)
  for (let i = 0; i < rows * dims; i++) matrix.values[i] = next() * 2 - 1
  const query = Float32Array.from({ length: dims }, () => next() * 2 - 1)
  return { matrix, query }
}

/** Each row's dot product with the query in float64, the plain way. */
function plainDots(values: Float32Array, rows: number, dims: number, query: Float32Array): number[] {
  return Array.from({ length: rows }, (_, r) => {
    let sum = 0
    for (let j = 0; j < dims; j++) sum += values[r * dims + j] * query[j]
    return sum
  })
}

afterEach(() => disableSimdKernel(false))

describe('scoring a matrix of vectors', () => {
  it.each([
    ['the SIMD kernel', false, 384, 'simd'],
    ['the JavaScript loop', true, 384, 'plain'],
    ['the JavaScript loop, for a width not a multiple of 8', false, 13, 'plain'],
  ])('%s gives every row its dot product with the query', (_, plainOnly, dims, kernel) => {
    disableSimdKernel(plainOnly)
    const rows = 257
    const { matrix, query } = randomMatrix(rows, dims, 7)
    expect(matrix.kernel).toBe(kernel)
    const expected = plainDots(matrix.values, rows, dims, query)
    const dots = matrix.dotAll(query)
    expect(dots).toHaveLength(rows)
    for (let r = 0; r < rows; r++) expect(Math.abs(dots[r] - expected[r])).toBeLessThan(1e-4)
  })

  it('keeps rows in order across calls with different queries', () => {
    const { matrix } = randomMatrix(3, 8, 1)
    matrix.values.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    expect(Array.from(matrix.dotAll(Float32Array.from([0, 2, 0, 0, 0, 0, 0, 0])))).toEqual([0, 2, 0])
    expect(Array.from(matrix.dotAll(Float32Array.from([3, 0, 1, 0, 0, 0, 0, 0])))).toEqual([3, 0, 1])
  })
})

describe('choosing the top rows', () => {
  it('answers the k highest scores best first, as sorting all of them does', () => {
    const next = random(3)
    const scores = Float32Array.from({ length: 5000 }, () => next())
    const sorted = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b)
    for (const k of [1, 5, 50, 200]) expect(topRows(scores, k)).toEqual(sorted.slice(0, k))
  })

  it('breaks ties by the lower row, and answers every row when k exceeds them', () => {
    expect(topRows([0.5, 0.9, 0.5, 0.9, 0.1], 3)).toEqual([1, 3, 0])
    expect(topRows([0.2, 0.4], 10)).toEqual([1, 0])
    expect(topRows([0.2, 0.4], 0)).toEqual([])
  })

  it('chooses only among the rows allowed', () => {
    expect(topRows([0.9, 0.8, 0.7, 0.6], 2, [3, 2, 0])).toEqual([0, 2])
  })
})

describe('reciprocal rank fusion', () => {
  it('scores each id 1 / (60 + rank) summed over the rankings that hold it', () => {
    expect(
      fuseRankings([
        ['a', 'b'],
        ['b', 'c'],
      ]),
    ).toEqual([
      { id: 'b', fused: 1 / 62 + 1 / 61 },
      { id: 'a', fused: 1 / 61 },
      { id: 'c', fused: 1 / 62 },
    ])
  })

  it('keeps the first ranking ahead on a tie', () => {
    expect(fuseRankings([['x'], ['y']]).map((f) => f.id)).toEqual(['x', 'y'])
  })
})

function vectorsOf(version: string, rows: number, dims = 8): LoadedVectors {
  const matrix = allocateMatrix(rows, dims)
  const ids = Array.from({ length: rows }, (_, i) => `chunk-${i}`)
  return { version, dims, ids, matrix, inverseNorms: new Float32Array(rows), rowOf: (id) => ids.indexOf(id) }
}

describe('the vector cache', () => {
  it('loads a base once per version, however many searches ask at once', async () => {
    const cache = new VectorCache(1024 * 1024)
    let loads = 0
    const load = async () => {
      loads++
      return vectorsOf('1', 4)
    }
    const [a, b] = await Promise.all([cache.vectorsOf('base', '1', load), cache.vectorsOf('base', '1', load)])
    expect(a).toBe(b)
    expect(await cache.vectorsOf('base', '1', load)).toBe(a)
    expect(loads).toBe(1)
    const next = await cache.vectorsOf('base', '2', async () => vectorsOf('2', 4))
    expect(next).not.toBe(a)
  })

  it('drops the least recently used bases beyond its bound in bytes', async () => {
    const one = vectorsOf('1', 1000)
    const bytes = one.matrix.bytes + one.inverseNorms.byteLength + 1000 * 64
    const cache = new VectorCache(bytes * 2.5)
    await cache.vectorsOf('a', '1', async () => one)
    await cache.vectorsOf('b', '1', async () => vectorsOf('1', 1000))
    await cache.vectorsOf('a', '1', async () => one)
    await cache.vectorsOf('c', '1', async () => vectorsOf('1', 1000))
    expect(['a', 'b', 'c'].filter((id) => cache.has(id))).toEqual(['a', 'c'])
    expect(cache.bytes).toBeLessThanOrEqual(bytes * 2.5)
  })

  it('says a base larger than its whole bound does not fit', () => {
    const cache = new VectorCache(1024 * 1024)
    expect(cache.fits(100, 384)).toBe(true)
    expect(cache.fits(100_000, 384)).toBe(false)
  })

  it('keeps nothing from a load that failed, so the next search loads again', async () => {
    const cache = new VectorCache(1024 * 1024)
    await expect(
      cache.vectorsOf('base', '1', async () => {
        throw new Error('connection lost')
      }),
    ).rejects.toThrow('connection lost')
    expect(await cache.vectorsOf('base', '1', async () => vectorsOf('1', 2))).not.toBeNull()
  })
})
