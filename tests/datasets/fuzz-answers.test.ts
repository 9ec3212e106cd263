// Random valid row queries whose answers are checked, not only survived: each query is also evaluated in
// plain TypeScript over the same fixture rows (with SQL's three-valued logic: a comparison with null is
// neither true nor false), and the API must return the same rows in the same order, with the same total.
// The hostile generator in fuzz.test.ts stays beside this one; every query here is valid, so every one
// reaches the database.
//
// A fixed seed and one that changes every run (printed in the test's name): FUZZ_SEED=<seed> replays it.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzedDataset, fuzzRuns, fuzzSeeds } from './fuzz-setup.ts'

const runs = fuzzRuns('FUZZ_ANSWER_RUNS', 300)
const fixedSeed = 20261130

type Row = {
  name: string
  age: number | null
  ok: boolean | null
  score: number
}

// Sixty rows: ages repeat and are sometimes null, `ok` is true, false or null, scores are distinct so an
// order by score is total.
const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({
  name: `r${String(i).padStart(2, '0')}`,
  age: i % 7 === 0 ? null : (i * 13) % 50,
  ok: i % 5 === 0 ? null : i % 2 === 0,
  score: (i * 37) % 101,
}))

/** A filter as the query string carries it, and the same filter as a predicate over a row. */
interface Filter {
  text: string
  /** true, false, or null when SQL would compare with null. */
  test(row: Row): boolean | null
}

type Comparison = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte'
const compare: Record<Comparison, (a: number | string, b: number | string) => boolean> = {
  eq: (a, b) => a === b,
  neq: (a, b) => a !== b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
}
const comparisons = Object.keys(compare) as Comparison[]

const ageFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ op: fc.constantFrom(...comparisons), value: fc.integer({ min: -5, max: 55 }) }).map(({ op, value }) => ({
    text: `age.${op}.${value}`,
    test: (r: Row) => (r.age === null ? null : compare[op](r.age, value)),
  })),
  fc.uniqueArray(fc.integer({ min: 0, max: 49 }), { minLength: 1, maxLength: 4 }).map((values) => ({
    text: `age.in.(${values.join(',')})`,
    test: (r: Row) => (r.age === null ? null : values.includes(r.age)),
  })),
  fc.boolean().map((negated) => ({
    text: negated ? 'age.not.is.null' : 'age.is.null',
    test: (r: Row) => (r.age === null) !== negated,
  })),
)

const okFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ op: fc.constantFrom<'eq' | 'neq'>('eq', 'neq'), value: fc.boolean() }).map(({ op, value }) => ({
    text: `ok.${op}.${value}`,
    test: (r: Row) => (r.ok === null ? null : compare[op](String(r.ok), String(value))),
  })),
  fc.constantFrom('true', 'false', 'null').map((value) => ({
    text: `ok.is.${value}`,
    test: (r: Row) => (value === 'null' ? r.ok === null : r.ok === (value === 'true')),
  })),
)

const nameFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ op: fc.constantFrom<'eq' | 'neq'>('eq', 'neq'), i: fc.integer({ min: 0, max: 64 }) }).map(({ op, i }) => {
    const value = `r${String(i).padStart(2, '0')}`
    return { text: `name.${op}.${value}`, test: (r: Row) => compare[op](r.name, value) }
  }),
  fc.uniqueArray(fc.integer({ min: 0, max: 64 }), { minLength: 1, maxLength: 4 }).map((ids) => {
    const values = ids.map((i) => `r${String(i).padStart(2, '0')}`)
    return { text: `name.in.(${values.join(',')})`, test: (r: Row) => values.includes(r.name) }
  }),
)

const filter = fc.oneof(ageFilter, okFilter, nameFilter)

/** SQL's AND and OR over true, false and null (unknown). */
const and = (a: boolean | null, b: boolean | null) => (a === false || b === false ? false : a === null || b === null ? null : true)
const or = (a: boolean | null, b: boolean | null) => (a === true || b === true ? true : a === null || b === null ? null : false)

/** A top-level filter is written `column=op.value`; inside or=(…) it keeps its `column.op.value` form. */
const topLevel = (f: Filter, negated: boolean) => {
  const dot = f.text.indexOf('.')
  const column = f.text.slice(0, dot)
  const rest = f.text.slice(dot + 1)
  return negated && !rest.startsWith('not.') ? `${column}=not.${rest}` : `${column}=${rest}`
}

interface Query {
  params: string[]
  predicate(row: Row): boolean | null
  descending: boolean
  limit: number
  offset: number
}

const query: fc.Arbitrary<Query> = fc
  .record({
    filters: fc.array(fc.record({ f: filter, negated: fc.boolean() }), { minLength: 0, maxLength: 3 }),
    either: fc.option(fc.tuple(filter, filter), { nil: undefined }),
    descending: fc.boolean(),
    limit: fc.integer({ min: 1, max: 60 }),
    offset: fc.integer({ min: 0, max: 20 }),
  })
  .map(({ filters, either, descending, limit, offset }) => {
    const params = filters.map(({ f, negated }) => topLevel(f, negated && !f.text.includes('.is.')))
    const tests = filters.map(({ f, negated }) => {
      const negate = negated && !f.text.includes('.is.') && !f.text.includes('.not.')
      return (r: Row) => {
        const v = f.test(r)
        return negate && v !== null ? !v : v
      }
    })
    if (either) {
      params.push(`or=(${either[0].text},${either[1].text})`)
      tests.push((r) => or(either[0].test(r), either[1].test(r)))
    }
    return {
      params,
      predicate: (r: Row) => tests.reduce<boolean | null>((acc, t) => and(acc, t(r)), true),
      descending,
      limit,
      offset,
    }
  })

/** What the API should answer, worked out without it. */
function expected(q: Query) {
  const matching = rows.filter((r) => q.predicate(r) === true).sort((a, b) => (q.descending ? b.score - a.score : a.score - b.score))
  return { rows: matching.slice(q.offset, q.offset + q.limit).map(({ name, score }) => ({ name, score })), total: matching.length }
}

const columns = [
  { name: 'name', type: 'text' as const },
  { name: 'age', type: 'number' as const },
  { name: 'ok', type: 'boolean' as const },
  { name: 'score', type: 'number' as const },
]
const target = fuzzedDataset({ name: 'Answers', columns, rows })

/** The answer of one surface to one query: its rows and its exact total. */
type Ask = (search: string) => Promise<{ rows: unknown; total: number }>

const surfaces: [string, Ask][] = [
  [
    'GET /datasets/{id}/rows',
    async (search) => {
      const res = await target.api.call('GET', `/datasets/${target.datasetId}/rows?${search}`, { key: target.key })
      expect(res.status, search).toBe(200)
      return { rows: res.body.data.rows, total: res.body.data.total }
    },
  ],
  [
    'GET /rest/v1/{table}',
    async (search) => {
      const res = await target.api.call('GET', `/rest/v1/${target.table}?${search}`, {
        key: target.key,
        headers: { prefer: 'count=exact' },
      })
      // Content-Range: <first>-<last>/<total>, or */<total> for an empty page; a 416 says the total in words.
      const total = Number(
        res.status === 416 ? /there are only (\d+) rows/.exec(res.body.details)?.[1] : res.headers.get('content-range')?.split('/')[1],
      )
      // As PostgREST does: 416 for an offset past the total, 206 for fewer rows than the total, else 200.
      const params = new URLSearchParams(search)
      const offset = Number(params.get('offset'))
      const returned = Math.max(0, Math.min(Number(params.get('limit')), total - offset))
      expect(res.status, search).toBe(offset > total ? 416 : returned < total ? 206 : 200)
      return { rows: res.status === 416 ? [] : res.body, total }
    },
  ],
]

describe('random valid row queries answer what plain TypeScript works out over the same rows', () => {
  for (const [surface, ask] of surfaces) {
    for (const { seed, label } of fuzzSeeds(fixedSeed)) {
      it(`${surface} (${runs} queries, ${label})`, { timeout: 120_000 }, async () => {
        let checked = 0
        await fc.assert(
          fc.asyncProperty(query, async (q) => {
            const order = `order=score.${q.descending ? 'desc' : 'asc'}`
            const search = [...q.params, 'select=name,score', order, `limit=${q.limit}`, `offset=${q.offset}`].join('&')
            expect(await ask(search), search).toEqual(expected(q))
            checked++
          }),
          { seed, numRuns: runs },
        )
        // Every generated query is valid: all of them reached the database and were checked.
        expect(checked).toBe(runs)
      })
    }
  }
})
