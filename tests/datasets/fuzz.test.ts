// Hostile and random query strings against both surfaces, through HTTP and a real PostgreSQL: every answer
// is a 2xx or a 4xx with a JSON error in the surface's shape, never a 500, never PostgreSQL's own words,
// and never a row of another organisation (whose rows carry a marker no fuzzed query can reach).
//
// Each surface is fuzzed twice: from a fixed seed, the same every run, and from a seed that changes every
// run, so that runs over time cover new ground. A failure names its seed in the test's name and fast-check
// prints it with the path to the failing case: FUZZ_SEED=<seed> (and FUZZ_PATH=<path>) replays it.
// FUZZ_RUNS sets the queries per test.
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { createDataset } from '../harness/datasets.ts'
import { createTenant } from '../harness/tenants.ts'
import { fuzzedDataset, fuzzRuns, fuzzSeeds, rotatingSeed } from './fuzz-setup.ts'

const marker = 'OTHER-ORG-SECRET-7f3a'
// About 60 s for the whole file on two shared cores.
const runs = fuzzRuns('FUZZ_RUNS', 2000)
const fixedSeed = 20261123
const replayPath = process.env.FUZZ_PATH
// Queries sent at once in one case: the API and PostgreSQL work side by side, within the plan's cap on
// requests in flight.
const batch = 4

const columns = [
  { name: 'name', type: 'text' as const },
  { name: 'age', type: 'number' as const },
  { name: 'ok', type: 'boolean' as const },
  { name: 'at', type: 'timestamp' as const },
  { name: 'meta', type: 'json' as const },
]
// Besides ordinary values, values that PostgreSQL refuses to cast (a name that is no number or date, a
// number too large for a smallint or a real, text that is no JSON) and names ending in a backslash.
const rows = Array.from({ length: 20 }, (_, i) => ({
  name: i % 7 === 3 ? `n${i}\\` : `n${i}`,
  age: i % 5 === 0 ? null : i === 4 ? 70000 : i * 3,
  ok: i % 2 === 0,
  at: new Date(Date.UTC(2026, 0, 1 + i)).toISOString(),
  meta: { tags: [`t${i % 3}`], level: { n: i } },
  extra: i % 4 === 0 ? 'x' : undefined,
  big: i % 6 === 1 ? 1e300 : i,
  brace: i % 3 === 0 ? '{' : '{"a":1}',
}))
const target = fuzzedDataset({ name: 'Fuzz', open: true, columns, rows, inFlight: batch })
// Same name, same columns, in another organisation: nothing of it may ever come back.
beforeAll(async () => {
  await createDataset(await createTenant(), {
    name: 'Fuzz',
    open: true,
    columns,
    rows: [{ name: marker, age: 1, meta: { tags: [marker] } }],
  })
})

// biome-ignore format: one line per kind of fragment
const fragments = [
  '(', ')', ',', '.', '"', '\\', '*', ':', '::', '-', '->', '->>', '{', '}', '[', ']', '!', '%', '%25', '%00', '%ZZ', '%C3%28', '+', '%2B',
  "'", ';', '--', '/*', '$1', '1=1', "' or '1'='1", 'drop table agentry.datasets', 'select pg_sleep(1)', '\u00e9', '\u{1F600}', '%E2%80%AE',
  'eq', 'neq', 'gt', 'in', 'is', 'like', 'ilike', 'match', 'fts', 'cs', 'cd', 'ov', 'sl', 'not', 'and', 'or', 'any', 'all', 'null',
  'name', 'age', 'ok', 'at', 'meta', 'extra', 'id', 'created_at', 'tags', '0', '-1', '1e999', 'NaN', 'true', 'english', 'simple',
  // What PostgreSQL itself refuses: a LIKE escape at the end, regular expressions, numbers and JSON
  // beyond its range, dates that do not exist, tsquery syntax, casts.
  '%5C', '\\\\', '1e-20000', '1e999999', '[1e999999]', '["\\u0000"]', '["\\ud800"]', '2026-13-45', '294277-01-01', 'a{99999}',
  '[z-a]', '(?', 'a%20%26', '!', '::int', '::smallint', '::real', '::date', '::json', '::numeric', '::uuid', '::constructor', '::__proto__',
]
const columnNames = [
  'name',
  'age',
  'ok',
  'at',
  'meta',
  'extra',
  'big',
  'brace',
  'id',
  'created_at',
  'nope',
  '"na,me"',
  'meta->tags->>0',
  'meta->level->n',
  'meta->>x',
]
const operators = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
  'in',
  'is',
  'isdistinct',
  'fts',
  'plfts',
  'phfts',
  'wfts',
  'cs',
  'cd',
  'ov',
  'sl',
  'adj',
  'eq(any)',
  'gt(all)',
  'fts(english)',
  'fts(nope)',
  'bogus',
]

const junk = fc.array(fc.constantFrom(...fragments), { maxLength: 8 }).map((parts) => parts.join(''))
const hostileValue = fc.constantFrom(
  'abc%5C',
  '%5C',
  '*%5C',
  'n*%5C',
  '%25%5C',
  '_%5C',
  'n3%5C%5C',
  '{a,b%5C}',
  '{*%5C}',
  '(',
  'a{99999}',
  '[z-a]',
  '1e-20000',
  '-1e-20000',
  '1e999999',
  '[1e999999]',
  '{"a":1e999999}',
  '["%5Cu0000"]',
  '["%5Cud800"]',
  '2026-13-45',
  '294277-01-01',
  'a%20%26',
  '!!',
  "'",
)
// A condition whose value PostgreSQL may refuse, under an operator that hands it to PostgreSQL as it is.
const hostileOperators = [
  'like',
  'ilike',
  'like(any)',
  'ilike(all)',
  'match',
  'imatch',
  'match(any)',
  'fts',
  'gt',
  'eq',
  'in',
  'cs',
  'cd',
  'ov',
]
const hostileCondition = fc
  .tuple(fc.constantFrom(...columnNames), fc.boolean(), fc.constantFrom(...hostileOperators), hostileValue)
  .map(([c, not, op, v]) => `${c}=${not ? 'not.' : ''}${op}.${op === 'in' ? `(${v})` : v}`)
const value = fc.oneof(
  junk,
  hostileValue,
  fc.string({ maxLength: 12 }),
  fc.constantFrom('1', '3', 'n1', 'null', 'true', '2026-01-05', '{t1}', '["t0"]', '(1,2)', '("a,b",c)', '{"tags":["t1"]}'),
)
const casts = [
  'text',
  'int',
  'smallint',
  'real',
  'numeric',
  'bool',
  'date',
  'timestamptz',
  'uuid',
  'json',
  'jsonb',
  'constructor',
  '__proto__',
  'tostring',
  'bogus',
]
const castSelect = fc
  .array(
    fc.tuple(fc.constantFrom(...columnNames), fc.constantFrom(...casts)).map(([c, t]) => `${c}::${t}`),
    { minLength: 1, maxLength: 3 },
  )
  .map((items) => items.join(','))
const condition = fc
  .tuple(fc.constantFrom(...columnNames), fc.boolean(), fc.constantFrom(...operators), value)
  .map(([c, not, op, v]) => `${c}.${not ? 'not.' : ''}${op}.${v}`)
const tree: fc.Arbitrary<string> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    condition,
    fc
      .tuple(fc.boolean(), fc.constantFrom('and', 'or'), fc.array(tie('node'), { minLength: 0, maxLength: 4 }))
      .map(([not, op, kids]) => `${not ? 'not.' : ''}${op}(${kids.join(',')})`),
  ),
})).node
const param = fc.oneof(
  fc
    .tuple(fc.constantFrom(...columnNames), fc.boolean(), fc.constantFrom(...operators), value)
    .map(([c, not, op, v]) => `${c}=${not ? 'not.' : ''}${op}.${v}`),
  fc
    .tuple(fc.constantFrom('or', 'and', 'not.or', 'not.and'), fc.array(tree, { maxLength: 4 }))
    .map(([k, kids]) => `${k}=(${kids.join(',')})`),
  fc
    .tuple(
      fc.constantFrom('select', 'order', 'limit', 'offset', 'search', 'distinct', 'columns'),
      fc.oneof(junk, fc.constantFrom('name,age', 'age.desc.nullslast', 'x:age::text', 'meta->level->>n', '50', '-1', '0', '1001')),
    )
    .map(([k, v]) => `${k}=${v}`),
  castSelect.map((select) => `select=${select}`),
  hostileCondition,
  fc.tuple(junk, junk).map(([k, v]) => `${k}=${v}`),
)
const query = fc.oneof(
  { weight: 4, arbitrary: fc.array(param, { minLength: 1, maxLength: 6 }).map((ps) => ps.join('&')) },
  // Well-formed but for what PostgreSQL refuses, so that it reaches PostgreSQL: one malformed parameter
  // beside it would have the parser refuse the whole query first.
  {
    weight: 3,
    arbitrary: fc
      .array(
        fc.oneof(
          hostileCondition,
          castSelect.map((select) => `select=${select}`),
          condition.map((c) => `or=(${c})`),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((ps) => ps.join('&')),
  },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 60 }).map((depth) => `or=${'('.repeat(depth)}age.eq.1${')'.repeat(depth)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 1200 }).map((n) => `age=in.(${Array.from({ length: n }, (_, i) => i).join(',')})`) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 150, max: 260 }).map((n) => `or=(${Array.from({ length: n }, (_, i) => `age.eq.${i}`).join(',')})`),
  },
)

// What PostgreSQL or a stack trace would say. (Our own messages may quote the query back, fragments and all.)
const leaks = new RegExp(
  [
    'PostgresError',
    'postgresql',
    'syntax error at or near',
    'invalid input syntax',
    'SQLSTATE',
    'relation "',
    'column "data"',
    'dataset_rows_[0-9a-f]{32}',
    String.raw`at [\w/.-]+\.ts:\d+`,
  ].join('|'),
  'i',
)

async function probe(path: string, allowed: number[]) {
  const res = await target.api.call('GET', path, { key: target.key })
  const text = JSON.stringify(res.body)
  expect(allowed, `${res.status} for ${path}: ${text}`).toContain(res.status)
  expect(text).not.toContain(marker)
  if (res.status >= 400) {
    expect(typeof res.body, path).toBe('object')
    expect(text, path).not.toMatch(leaks)
  }
  return res
}

async function probeV1(q: string) {
  const res = await probe(`/datasets/${target.datasetId}/rows?${q}`, [200, 400])
  if (res.status === 400) expect(res.body.error.code).toBe('invalid_query')
}

async function probeRest(q: string) {
  const res = await probe(`/rest/v1/${target.table}?${q}`, [200, 206, 400, 416])
  if (res.status >= 400) expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'hint', 'message'])
  if (res.status === 400) expect(res.body.code).toBe('PGRST100')
}

/** `runs` queries from `seed`, `batch` at a time; a failure names the query at fault, and fast-check shrinks it. */
async function fuzz(check: (q: string) => Promise<void>, seed: number) {
  const queries = fc.array(query, { minLength: batch, maxLength: batch })
  await fc.assert(
    fc.asyncProperty(queries, async (qs) => {
      // Every query of the case answered before the next case starts, failing or not.
      const failed = (await Promise.allSettled(qs.map(check))).find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
    }),
    { numRuns: Math.ceil(runs / batch), seed, ...(replayPath && seed === rotatingSeed ? { path: replayPath } : {}) },
  )
}

describe('fuzzed queries', () => {
  const cases: [surface: string, check: (q: string) => Promise<void>][] = [
    ['GET /datasets/{id}/rows', probeV1],
    ['GET /rest/v1/{table}', probeRest],
  ]
  for (const [surface, check] of cases) {
    for (const { seed, label } of fuzzSeeds(fixedSeed)) {
      it(`never break ${surface} (${runs} queries, ${label})`, () => fuzz(check, seed), 120_000)
    }
  }

  it('answers the hostile classics with 400, not 500', async () => {
    const classics = [
      `name=eq.'; drop table agentry.datasets; --`,
      'name=eq.%00',
      'name%00=eq.1',
      'na%ZZme=eq.1',
      '"na\\"me"=eq.1',
      `or=${'('.repeat(15_000)}`,
      // Past the app's 16 KiB bound, still within the server's header limit: the app's own JSON error.
      `or=${'('.repeat(20_000)}`,
      'x'.repeat(40_000),
      'name=like.abc%5C',
      'name=not.ilike.%5C',
      'or=(name.like.%5C,age.eq.1)',
      'name=like(all).{a,b%5C%5C}',
      'age=gt.1e-20000',
      'select=name::int,big::real',
      `select=${'a,'.repeat(5000)}a`,
      `order=${'a,'.repeat(100)}a`,
      `age=in.(${'1,'.repeat(5000)}1)`,
      'meta->>x->y=eq.1',
      'age=gt.1e99999',
      'name=match.(a+)+$',
      'x'.repeat(15_000),
      `name=eq.${'y'.repeat(15_000)}`,
    ]
    for (const q of classics) {
      await probeV1(q)
      await probeRest(q)
    }
  })
})
