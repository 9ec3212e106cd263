// Hostile and random query strings against both surfaces, through HTTP and a real PostgreSQL: every answer
// is a 2xx or a 4xx with a JSON error in the surface's shape, never a 500, never PostgreSQL's own words,
// and never a row of another organisation (whose rows carry a marker no fuzzed query can reach).
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant } from '../harness/tenants.ts'

const marker = 'OTHER-ORG-SECRET-7f3a'
const runs = Number(process.env.FUZZ_RUNS ?? 300)

let api: TestApi
let key: string
let datasetId: string
let table: string

beforeAll(async () => {
  api = await startApi()
  const t = await createTenant()
  key = await t.key({ scopes: ['datasets:read'] })
  const columns = [
    { name: 'name', type: 'text' as const },
    { name: 'age', type: 'number' as const },
    { name: 'ok', type: 'boolean' as const },
    { name: 'at', type: 'timestamp' as const },
    { name: 'meta', type: 'json' as const },
  ]
  const rows = Array.from({ length: 20 }, (_, i) => ({
    name: `n${i}`,
    age: i % 5 === 0 ? null : i * 3,
    ok: i % 2 === 0,
    at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
    meta: { tags: [`t${i % 3}`], level: { n: i } },
    extra: i % 4 === 0 ? 'x' : undefined,
  }))
  const dataset = await createDataset(t, { name: 'Fuzz', open: true, columns, rows })
  datasetId = dataset.id
  table = dataset.name
  // Same name, same columns, in another organisation: nothing of it may ever come back.
  const other = await createTenant()
  await createDataset(other, { name: 'Fuzz', open: true, columns, rows: [{ name: marker, age: 1, meta: { tags: [marker] } }] })
})
afterAll(() => api.close())

const fragments = [
  '(', ')', ',', '.', '"', '\\', '*', ':', '::', '-', '->', '->>', '{', '}', '[', ']', '!', '%', '%25', '%00', '%ZZ', '%C3%28', '+', '%2B',
  "'", ';', '--', '/*', '$1', '1=1', "' or '1'='1", 'drop table agentry.datasets', 'select pg_sleep(1)', '\u00e9', '\u{1F600}', '%E2%80%AE',
  'eq', 'neq', 'gt', 'in', 'is', 'like', 'ilike', 'match', 'fts', 'cs', 'cd', 'ov', 'sl', 'not', 'and', 'or', 'any', 'all', 'null',
  'name', 'age', 'ok', 'at', 'meta', 'extra', 'id', 'created_at', 'tags', '0', '-1', '1e999', 'NaN', 'true', 'english', 'simple',
]
const columnNames = ['name', 'age', 'ok', 'at', 'meta', 'extra', 'id', 'created_at', 'nope', '"na,me"', 'meta->tags->>0', 'meta->level->n', 'meta->>x']
const operators = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch', 'in', 'is', 'isdistinct', 'fts', 'plfts', 'phfts', 'wfts', 'cs', 'cd', 'ov', 'sl', 'adj', 'eq(any)', 'gt(all)', 'fts(english)', 'fts(nope)', 'bogus']

const junk = fc.array(fc.constantFrom(...fragments), { maxLength: 8 }).map((parts) => parts.join(''))
const value = fc.oneof(junk, fc.string({ maxLength: 12 }), fc.constantFrom('1', '3', 'n1', 'null', 'true', '2026-01-05', '{t1}', '["t0"]', '(1,2)', '("a,b",c)', '{"tags":["t1"]}'))
const condition = fc.tuple(fc.constantFrom(...columnNames), fc.boolean(), fc.constantFrom(...operators), value).map(([c, not, op, v]) => `${c}.${not ? 'not.' : ''}${op}.${v}`)
const tree: fc.Arbitrary<string> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, condition, fc.tuple(fc.boolean(), fc.constantFrom('and', 'or'), fc.array(tie('node'), { minLength: 0, maxLength: 4 })).map(([not, op, kids]) => `${not ? 'not.' : ''}${op}(${kids.join(',')})`)),
})).node
const param = fc.oneof(
  fc.tuple(fc.constantFrom(...columnNames), fc.boolean(), fc.constantFrom(...operators), value).map(([c, not, op, v]) => `${c}=${not ? 'not.' : ''}${op}.${v}`),
  fc.tuple(fc.constantFrom('or', 'and', 'not.or', 'not.and'), fc.array(tree, { maxLength: 4 })).map(([k, kids]) => `${k}=(${kids.join(',')})`),
  fc.tuple(fc.constantFrom('select', 'order', 'limit', 'offset', 'search', 'distinct', 'columns'), fc.oneof(junk, fc.constantFrom('name,age', 'age.desc.nullslast', 'x:age::text', 'meta->level->>n', '50', '-1', '0', '1001'))).map(([k, v]) => `${k}=${v}`),
  fc.tuple(junk, junk).map(([k, v]) => `${k}=${v}`),
)
const query = fc.oneof(
  { weight: 4, arbitrary: fc.array(param, { minLength: 1, maxLength: 6 }).map((ps) => ps.join('&')) },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 60 }).map((depth) => `or=${'('.repeat(depth)}age.eq.1${')'.repeat(depth)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 1200 }).map((n) => `age=in.(${Array.from({ length: n }, (_, i) => i).join(',')})`) },
  { weight: 1, arbitrary: fc.integer({ min: 150, max: 260 }).map((n) => `or=(${Array.from({ length: n }, (_, i) => `age.eq.${i}`).join(',')})`) },
)

// What PostgreSQL or a stack trace would say. (Our own messages may quote the query back, fragments and all.)
const leaks = /PostgresError|postgresql|syntax error at or near|invalid input syntax|SQLSTATE|relation "|column "data"|dataset_rows_[0-9a-f]{32}|at [\w/.-]+\.ts:\d+/i

async function probe(path: string, allowed: number[]) {
  const res = await api.call('GET', path, { key })
  const text = JSON.stringify(res.body)
  expect(allowed, `${res.status} for ${path}: ${text}`).toContain(res.status)
  expect(text).not.toContain(marker)
  if (res.status >= 400) {
    expect(typeof res.body, path).toBe('object')
    expect(text, path).not.toMatch(leaks)
  }
  return res
}

describe('fuzzed queries', () => {
  it(`never break GET /datasets/{id}/rows (${runs} queries)`, async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await probe(`/datasets/${datasetId}/rows?${q}`, [200, 400])
        if (res.status === 400) expect(res.body.error.code).toBe('invalid_query')
      }),
      { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 20261123) },
    )
  }, 120_000)

  it(`never break GET /rest/v1/{table} (${runs} queries)`, async () => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        const res = await probe(`/rest/v1/${table}?${q}`, [200, 206, 400, 416])
        if (res.status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'hint', 'message'])
      }),
      { numRuns: runs, seed: Number(process.env.FUZZ_SEED ?? 20261123) + 1 },
    )
  }, 120_000)

  it('answers the hostile classics with 400, not 500', async () => {
    const classics = [
      `name=eq.'; drop table agentry.datasets; --`,
      'name=eq.%00',
      'name%00=eq.1',
      'na%ZZme=eq.1',
      '"na\\"me"=eq.1',
      // As long as Node's HTTP server lets a request line be (16 KiB of headers in all).
      `or=${'('.repeat(15_000)}`,
      `select=${'a,'.repeat(5000)}a`,
      `order=${'a,'.repeat(100)}a`,
      `age=in.(${'1,'.repeat(5000)}1)`,
      'meta->>x->y=eq.1',
      'age=gt.1e99999',
      'name=match.(a+)+$',
      'x'.repeat(15_000),
      `name=eq.${'y'.repeat(15_000)}`,
    ]
    for (const q of classics) await probe(`/datasets/${datasetId}/rows?${q}`, [200, 400])
  })
})
