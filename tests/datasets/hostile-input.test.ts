// Input that PostgreSQL itself refuses (a data exception, a program limit): on both dataset surfaces it
// answers 400 in the surface's error shape, names the part of the query at fault, and says nothing in
// PostgreSQL's words. And a query string too long for the app gets the app's JSON error, not Node's 431.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant } from '../harness/tenants.ts'

let api: TestApi
let key: string
let datasetId: string
let table: string

beforeAll(async () => {
  api = await startApi()
  const t = await createTenant()
  key = await t.key({ scopes: ['datasets:read', 'datasets:write'] })
  const dataset = await createDataset(t, {
    name: 'Hostile',
    open: true,
    columns: [
      { name: 'name', type: 'text' },
      { name: 'age', type: 'number' },
      { name: 'ok', type: 'boolean' },
      { name: 'meta', type: 'json' },
    ],
    // Values that only fail once PostgreSQL casts them: text that is no number, no date, no JSON; a number
    // too large for a smallint or a real.
    rows: [
      { name: 'abc', age: 3, ok: true, meta: { a: 1 } },
      { name: 'x\\', age: 70000, ok: false, big: 1e300, brace: '{' },
    ],
  })
  datasetId = dataset.id
  table = dataset.name
})
afterAll(() => api.close())

const name = '"name"'
const cases: [query: string, message: string][] = [
  [
    'name=like.abc%5C',
    `Invalid escape in the LIKE pattern of the filter on ${name}: "\\" escapes the character after it, so a pattern cannot end with one ` +
      `(write "\\\\" for a backslash).`,
  ],
  [
    'name=not.ilike.%5C',
    `Invalid escape in the LIKE pattern of the filter on ${name}: "\\" escapes the character after it, so a pattern cannot end with one ` +
      `(write "\\\\" for a backslash).`,
  ],
  [
    'name=like(any).{a*,"b\\\\"}',
    `Invalid escape in the LIKE pattern of the filter on ${name}: "\\" escapes the character after it, so a pattern cannot end with one ` +
      `(write "\\\\" for a backslash).`,
  ],
  [
    'or=(age.eq.1,name.like.x%5C)',
    `Invalid escape in the LIKE pattern of the filter on ${name}: "\\" escapes the character after it, so a pattern cannot end with one ` +
      `(write "\\\\" for a backslash).`,
  ],
  ['name=match.(', `Invalid regular expression in the filter on ${name} (match and imatch take POSIX regular expressions).`],
  ['name=imatch.a{99999}', `Invalid regular expression in the filter on ${name} (match and imatch take POSIX regular expressions).`],
  ['name=fts.a%20%26', `Invalid tsquery syntax in the filter on ${name} (use plfts or wfts for plain words).`],
  ['name=fts(nope).a', `Unknown text search configuration in the filter on ${name}: use a configuration such as english or simple.`],
  ['age=gt.1e-20000', 'A number in the filter on "age" is out of range.'],
  ['meta=cs.[1e999999]', 'A number in the filter on "meta" is out of range.'],
  ['meta=cs.["\\u0000"]', 'A text value in the filter on "meta" holds a character that cannot be stored (such as \\u0000).'],
  [
    'meta=cs.["\\ud800"]',
    'A value in the filter on "meta" cannot be read as the type it is compared or cast to (for example "abc"::integer).',
  ],
  [
    'select=name::int',
    'A value in the select of "name"::int cannot be read as the type it is compared or cast to (for example "abc"::integer).',
  ],
  [
    'select=brace::json',
    'A value in the select of "brace"::json cannot be read as the type it is compared or cast to (for example "abc"::integer).',
  ],
  ['select=name::date', 'Invalid or out-of-range date or time in the select of "name"::date.'],
  ['select=age::smallint', 'A number in the select of "age"::smallint is out of range.'],
  ['select=big::real', 'A number in the select of "big"::real is out of range.'],
  ['select=ok::numeric', 'The select of "ok"::numeric casts between types that do not convert (for example a boolean to a number).'],
  // Two parts could raise a number out of range: the query is named, not one of them.
  ['age=gt.1e-20000&meta=cs.[1e999999]', 'A number in the query is out of range.'],
]

describe('input PostgreSQL refuses', () => {
  it.each(cases)('answers %s with 400 invalid_query naming the part at fault', async (query, message) => {
    const res = await api.call('GET', `/datasets/${datasetId}/rows?${query}`, { key })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: { code: 'invalid_query', message } })
  })

  it.each(cases)('answers %s with 400 PGRST100 on the PostgREST surface', async (query, message) => {
    const res = await api.call('GET', `/rest/v1/${table}?${query}`, { key })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ code: 'PGRST100', message, details: null, hint: null })
  })

  it('refuses a pattern ending in an escaped backslash no more than any other pattern', async () => {
    const res = await api.call('GET', `/datasets/${datasetId}/rows?name=like.x%5C%5C&select=name`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data.rows).toEqual([{ name: 'x\\' }])
  })

  it('refuses casts named after what every JavaScript object has', async () => {
    for (const cast of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const res = await api.call('GET', `/datasets/${datasetId}/rows?select=age::${cast}`, { key })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_query')
      expect(res.body.error.message).toMatch(new RegExp(`^Unknown cast "::${cast.toLowerCase()}" on "age"; use one of: text, int,`))
    }
  })

  it('answers a value too large for its index with 400 validation_failed naming the rows sent', async () => {
    // Random characters do not compress, so the index entry stays as long as the value.
    const long = randomBytes(3000).toString('base64')
    const message = "A value in the rows sent is too large to index: a declared text column's values must stay under about 2,700 bytes."
    const v1 = await api.call('POST', `/datasets/${datasetId}/rows`, { key, body: [{ name: long }] })
    expect(v1.status).toBe(400)
    expect(v1.body).toEqual({ error: { code: 'validation_failed', message } })
    const rest = await api.call('POST', `/rest/v1/${table}`, { key, body: { name: long } })
    expect(rest.status).toBe(400)
    expect(rest.body).toEqual({ code: 'PGRST102', message, details: null, hint: null })
  })
})

describe('a query string longer than the app accepts', () => {
  it("gets the app's JSON error on both surfaces, not a bare 431 from the HTTP server", async () => {
    const query = `name=eq.${'y'.repeat(20 * 1024)}`
    const message = `the query string is ${query.length} characters long; the limit is 16384`
    const v1 = await api.call('GET', `/datasets/${datasetId}/rows?${query}`, { key })
    expect(v1.status).toBe(400)
    expect(v1.body).toEqual({ error: { code: 'invalid_query', message } })
    const rest = await api.call('GET', `/rest/v1/${table}?${query}`, { key })
    expect(rest.status).toBe(400)
    expect(rest.body).toEqual({ code: 'PGRST100', message, details: null, hint: null })
  })
})
