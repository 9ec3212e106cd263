// Choosing the best rows of a scored matrix, and fusing rankings into one: the parts of a hybrid search that
// do not depend on what is searched (knowledge chunks, email threads).

/** How deep each ranking goes before fusion: deeper than the answer, so what both rank well can win. */
export function fusionDepth(limit: number): number {
  return Math.min(200, Math.max(50, limit * 4))
}

/**
 * The `k` rows with the highest scores, best first; equal scores keep the lower row first (rows are loaded
 * in id order, so ties fall as they do in SQL's `order by distance, id`). `only`, when given, lists
 * the rows that may be chosen. A min-heap of k entries: one pass over the scores, no sort of all of them.
 */
export function topRows(scores: ArrayLike<number>, k: number, only?: Iterable<number>): number[] {
  if (k <= 0) return []
  const heapScore = new Float64Array(k)
  const heapRow = new Int32Array(k)
  let size = 0
  // a ranks below b: a lower score, or the same score and a later row.
  const below = (sa: number, ra: number, sb: number, rb: number) => sa < sb || (sa === sb && ra > rb)

  const offer = (row: number) => {
    const score = scores[row]
    if (Number.isNaN(score)) return
    if (size < k) {
      let i = size++
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!below(score, row, heapScore[parent], heapRow[parent])) break
        heapScore[i] = heapScore[parent]
        heapRow[i] = heapRow[parent]
        i = parent
      }
      heapScore[i] = score
      heapRow[i] = row
      return
    }
    if (!below(heapScore[0], heapRow[0], score, row)) return
    // Replace the weakest and sift down.
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= size) break
      const right = left + 1
      const child = right < size && below(heapScore[right], heapRow[right], heapScore[left], heapRow[left]) ? right : left
      if (!below(heapScore[child], heapRow[child], score, row)) break
      heapScore[i] = heapScore[child]
      heapRow[i] = heapRow[child]
      i = child
    }
    heapScore[i] = score
    heapRow[i] = row
  }

  if (only) for (const row of only) offer(row)
  else for (let row = 0; row < scores.length; row++) offer(row)

  const chosen = Array.from(heapRow.subarray(0, size))
  return chosen.sort((a, b) => scores[b] - scores[a] || a - b)
}

/** The constant of reciprocal rank fusion: a document's share from a list is 1 / (k + its rank there). */
export const fusionK = 60

/**
 * Reciprocal rank fusion of rankings (ids best first): each id scores the sum of 1 / (60 + rank) over the
 * lists that hold it, ranks counted from 1. Best first; ties keep the order of the first list, then the next.
 */
export function fuseRankings(rankings: readonly (readonly string[])[]): { id: string; fused: number }[] {
  const fused = new Map<string, number>()
  for (const ranking of rankings) {
    ranking.forEach((id, i) => {
      fused.set(id, (fused.get(id) ?? 0) + 1 / (fusionK + i + 1))
    })
  }
  // Map keeps insertion order and sort is stable: ties stay in first-seen order.
  return [...fused].map(([id, score]) => ({ id, fused: score })).sort((a, b) => b.fused - a.fused)
}
