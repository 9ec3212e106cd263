// The PostgREST grammar, case by case, against both surfaces: GET /datasets/{id}/rows (our envelope) and
// GET /rest/v1/{name} (PostgREST's wire format). Each case is a query string and the rows it must return,
// named and in order; without `order`, rows come in insertion order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant } from '../harness/tenants.ts'

const people = [
  {
    name: 'ada',
    age: 36,
    city: 'London',
    active: true,
    born: '1990-12-10T00:00:00.000Z',
    tags: ['math', 'poetry'],
    meta: { lang: 'en', level: { n: 3 } },
    nickname: 'Countess',
  },
  { name: 'bob', age: 17, city: 'Paris', active: false, born: '2009-01-01T00:00:00.000Z', tags: ['music'], meta: { lang: 'fr' } },
  { name: 'cyd', age: 21, city: null, active: true, born: '2005-06-15T12:30:00.000Z', tags: [], meta: { lang: 'en' } },
  { name: 'dee', age: null, city: 'New York', active: null, born: null, tags: null, meta: null },
  {
    name: 'eve',
    age: 45,
    city: 'São Paulo',
    active: true,
    born: '1981-03-03T00:00:00.000Z',
    tags: ['math'],
    meta: { lang: 'pt', level: { n: 1 } },
  },
  {
    name: 'fay',
    age: 9,
    city: 'London',
    active: false,
    born: '2017-09-09T00:00:00.000Z',
    tags: ['art', 'music'],
    meta: { lang: 'en', level: { n: 5 } },
  },
  { name: 'gus', age: 30, city: 'Paris, France', active: true, born: '1996-02-29T00:00:00.000Z', tags: ['a,b'], meta: {} },
  {
    name: 'jo (jr)',
    age: 2.5,
    city: 'O"Brien',
    active: false,
    born: '2024-01-01T00:00:00.000Z',
    tags: ['x'],
    meta: { lang: 'en' },
    nickname: 'Joey',
  },
  { name: 'ivy' },
]
const all = people.map((p) => p.name)
const except = (...names: string[]) => all.filter((n) => !names.includes(n))

/** [query string, names of the rows it returns in order]. */
const cases: [string, string[]][] = [
  // comparison operators; numbers compare as numbers
  ['age=eq.36', ['ada']],
  ['age=neq.36', ['bob', 'cyd', 'eve', 'fay', 'gus', 'jo (jr)']],
  ['age=gt.20', ['ada', 'cyd', 'eve', 'gus']],
  ['age=gte.21&age=lte.36', ['ada', 'cyd', 'gus']],
  ['age=lt.10', ['fay', 'jo (jr)']],
  ['age=gt.2.5', ['ada', 'bob', 'cyd', 'eve', 'fay', 'gus']],
  ['name=neq.ada&age=gt.20', ['cyd', 'eve', 'gus']],
  ['"city"=eq.London', ['ada', 'fay']],
  // patterns and regular expressions
  ['name=like.*y*', ['cyd', 'fay', 'ivy']],
  ['name=ilike.A*', ['ada']],
  ['name=like.a%25', ['ada']],
  ['city=match.^Pa', ['bob', 'gus']],
  ['city=imatch.LONDON', ['ada', 'fay']],
  ['city=not.like.*o*', ['bob', 'gus', 'jo (jr)']],
  // in, is, isdistinct: NULLs never match a comparison, negated or not
  ['city=in.(London,"Paris, France")', ['ada', 'fay', 'gus']],
  ['city=not.in.(London,Paris)', ['dee', 'eve', 'gus', 'jo (jr)']],
  ['city=in.()', []],
  ['city=not.in.()', all],
  ['name=in.("jo (jr)")', ['jo (jr)']],
  ['age=in.(9,17)', ['bob', 'fay']],
  ['city=is.null', ['cyd', 'ivy']],
  ['city=not.is.null', except('cyd', 'ivy')],
  ['city=is.not_null', except('cyd', 'ivy')],
  ['active=is.true', ['ada', 'cyd', 'eve', 'gus']],
  ['active=is.FALSE', ['bob', 'fay', 'jo (jr)']],
  ['active=not.is.true', ['bob', 'dee', 'fay', 'jo (jr)', 'ivy']],
  ['active=is.unknown', ['dee', 'ivy']],
  ['active=eq.true', ['ada', 'cyd', 'eve', 'gus']],
  ['age=isdistinct.36', except('ada')],
  ['age=not.eq.36', ['bob', 'cyd', 'eve', 'fay', 'gus', 'jo (jr)']],
  // timestamps compare as instants, whatever offset the literal carries
  ['born=gt.2005-01-01', ['bob', 'cyd', 'fay', 'jo (jr)']],
  ['born=lt.1990-12-10T00:00:01Z', ['ada', 'eve']],
  ['born=eq.1990-12-10T01:00:00%2B01:00', ['ada']],
  // JSON containment and overlap, arrays as PostgreSQL literals or JSON
  ['tags=cs.{music}', ['bob', 'fay']],
  ['tags=cs.["math"]', ['ada', 'eve']],
  ['tags=cs.{"a,b"}', ['gus']],
  ['tags=cd.{math,poetry,art}', ['ada', 'cyd', 'eve']],
  ['tags=ov.{art,poetry}', ['ada', 'fay']],
  ['meta=cs.{"lang":"en"}', ['ada', 'cyd', 'fay', 'jo (jr)']],
  ['tags=not.cs.{math}', ['bob', 'cyd', 'fay', 'gus', 'jo (jr)']],
  // JSON paths
  ['meta->>lang=eq.fr', ['bob']],
  ['meta->level->>n=gte.3', ['ada', 'fay']],
  ['meta->level->n=eq.5', ['fay']],
  ['tags->>0=eq.math', ['ada', 'eve']],
  ['tags->0=eq."math"', ['ada', 'eve']],
  ['tags->>-1=eq.music', ['bob', 'fay']],
  // keys no column declares, in an open dataset
  ['nickname=eq.Joey', ['jo (jr)']],
  ['nickname=is.null', except('ada', 'jo (jr)')],
  // logic trees, nested, negated, quoted
  ['or=(age.lt.10,age.gt.40)', ['eve', 'fay', 'jo (jr)']],
  ['or=(city.eq.London,and(age.gte.17,age.lte.21))', ['ada', 'bob', 'cyd', 'fay']],
  ['not.or=(age.lt.18,age.gt.40)', ['ada', 'cyd', 'gus']],
  ['and=(age.gte.10,or(city.eq.Paris,city.eq."Paris, France"))', ['bob', 'gus']],
  ['or=(name.eq."jo (jr)",name.eq.ivy)', ['jo (jr)', 'ivy']],
  ['or=(city.eq."O\\"Brien")', ['jo (jr)']],
  ['or=(age.in.(9,17),active.is.null)', ['bob', 'dee', 'fay', 'ivy']],
  ['or=(tags.cs.{math},tags.cs.{art})', ['ada', 'eve', 'fay']],
  ['or=( age.eq.36 , age.eq.45 )', ['ada', 'eve']],
  ['or=(not.and(age.gte.10,age.lte.40),city.is.null)', ['cyd', 'eve', 'fay', 'jo (jr)', 'ivy']],
  ['or=(meta->>lang.eq.pt,meta->level->>n.eq.5)', ['eve', 'fay']],
  ['or=(age.eq.36)&or=(city.eq.London)', ['ada']],
  ['and=(or(age.lt.18,age.gt.40),not.or(city.eq.London,city.is.null))', ['bob', 'eve', 'jo (jr)']],
  // quantifiers
  ['name=eq(any).{ada,bob}', ['ada', 'bob']],
  ['name=like(any).{a*,e*}', ['ada', 'eve']],
  ['age=gt(all).{10,20}', ['ada', 'cyd', 'eve', 'gus']],
  // decoding: percent-escapes once, + as a space
  ['city=eq.S%C3%A3o%20Paulo', ['eve']],
  ['city=eq.New+York', ['dee']],
  // full-text search on a column
  ['city=fts(simple).london', ['ada', 'fay']],
  ['city=plfts.new%20york', ['dee']],
  ['city=phfts(simple).paris%20france', ['gus']],
  ['city=wfts(english).paris%20-france', ['bob']],
  // order: several terms, directions, NULL placement, JSON paths, keys no column declares
  ['order=age.desc', ['dee', 'ivy', 'eve', 'ada', 'gus', 'cyd', 'bob', 'fay', 'jo (jr)']],
  ['order=age.desc.nullslast', ['eve', 'ada', 'gus', 'cyd', 'bob', 'fay', 'jo (jr)', 'dee', 'ivy']],
  ['order=age.asc.nullsfirst', ['dee', 'ivy', 'jo (jr)', 'fay', 'bob', 'cyd', 'gus', 'ada', 'eve']],
  ['order=city,name', ['ada', 'fay', 'dee', 'jo (jr)', 'bob', 'gus', 'eve', 'cyd', 'ivy']],
  ['order=meta->>lang.desc.nullslast,name', ['eve', 'bob', 'ada', 'cyd', 'fay', 'jo (jr)', 'dee', 'gus', 'ivy']],
  ['order=nickname', ['ada', 'jo (jr)', 'bob', 'cyd', 'dee', 'eve', 'fay', 'gus', 'ivy']],
  ['order=born&born=not.is.null', ['eve', 'ada', 'gus', 'cyd', 'bob', 'fay', 'jo (jr)']],
  ['order=meta->level->n.desc.nullslast', ['fay', 'ada', 'eve', 'bob', 'cyd', 'dee', 'gus', 'jo (jr)', 'ivy']],
  // limit and offset
  ['order=name&limit=2&offset=1', ['bob', 'cyd']],
  ['limit=3', ['ada', 'bob', 'cyd']],
  ['offset=7', ['jo (jr)', 'ivy']],
]

/** [query string, the rows it returns (select shapes them)]. */
const selects: [string, unknown[]][] = [
  ['select=name,years:age&name=eq.ada', [{ name: 'ada', years: 36 }]],
  ['select=age::text&name=eq.ada', [{ age: '36' }]],
  ['select=name, age::int&name=eq.jo (jr)', [{ name: 'jo (jr)', age: 3 }]],
  ['select=meta->level->>n,lang:meta->>lang&name=eq.eve', [{ n: '1', lang: 'pt' }]],
  ['select=meta->level&name=eq.ada', [{ level: { n: 3 } }]],
  ['select=tags->>0&name=eq.fay', [{ tags: 'art' }]],
  [
    'select=name,nickname&or=(name.eq.ada,name.eq.bob)',
    [
      { name: 'ada', nickname: 'Countess' },
      { name: 'bob', nickname: null },
    ],
  ],
  ['select="city"&name=eq.gus', [{ city: 'Paris, France' }]],
  ['select=born::date&name=eq.cyd', [{ born: '2005-06-15' }]],
]

/** Malformed or impossible queries: 400 on both surfaces, with where it went wrong. */
const errors: [string, RegExp][] = [
  ['age=foo.1', /failed to parse filter/],
  ['age=eq', /failed to parse filter/],
  ['age=not.not.eq.1', /failed to parse filter/],
  ['or=()', /failed to parse logic tree \(or\(\)\) at column 4/],
  ['or=(age.eq.1', /failed to parse logic tree/],
  ['or=age.eq.1', /failed to parse logic tree/],
  ['age=gt.abc', /"age" is a number column: "abc" is not a number/],
  ['age=in.(1,abc)', /"age" is a number column/],
  ['born=gt.yesterday', /"born" is a timestamp/],
  ['active=is.maybe', /failed to parse filter/],
  ['select=age::bogus', /Unknown cast "::bogus"/],
  ['order=age.sideways', /failed to parse order/],
  ['posts.title=eq.x', /embedding/i],
  ['select=posts(id)', /not supported/],
  ['select=count()', /not supported/],
  ['age=sl.[1,2]', /range/],
  ['name=eq.a%00b', /NUL/],
  ['name=eq.%ZZ', /name/],
  ['name=match.(', /regular expression/],
  ['city=fts(nosuchconfig).x', /text search configuration/],
  ['city=fts.a%20%26', /tsquery/],
  ['name->x=eq.1', /"name" is a text column: JSON paths/],
  ['active=is.true&name=is.true', /is\.true applies to boolean values/],
  ['select=name::int', /cannot be read as the type/],
]

let api: TestApi
let key: string
let datasetId: string
let tableName: string
beforeAll(async () => {
  api = await startApi()
  const t = await createTenant()
  key = await t.key({ scopes: ['datasets:read'] })
  const dataset = await createDataset(t, {
    name: 'People',
    open: true,
    columns: [
      { name: 'name', type: 'text' },
      { name: 'age', type: 'number' },
      { name: 'city', type: 'text' },
      { name: 'active', type: 'boolean' },
      { name: 'born', type: 'timestamp' },
      { name: 'tags', type: 'json' },
      { name: 'meta', type: 'json' },
    ],
    rows: people,
  })
  datasetId = dataset.id
  tableName = dataset.name
})
afterAll(() => api.close())

const surfaces = {
  'GET /datasets/{id}/rows': async (query: string) => {
    const res = await api.call('GET', `/datasets/${datasetId}/rows?${query}`, { key })
    return { status: res.status, rows: res.body?.data?.rows, error: res.body?.error }
  },
  'GET /rest/v1/{table}': async (query: string) => {
    const res = await api.call('GET', `/rest/v1/${encodeURIComponent(tableName)}?${query}`, { key })
    return { status: res.status, rows: res.status < 300 ? res.body : undefined, error: res.status >= 400 ? res.body : undefined }
  },
}

for (const [surface, query] of Object.entries(surfaces)) {
  describe(`${surface} follows the PostgREST grammar`, () => {
    it.each(cases)('%s', async (q, names) => {
      const res = await query(q)
      expect(res.status, JSON.stringify(res.error)).toBe(200)
      expect(res.rows.map((r: { name: string }) => r.name)).toEqual(names)
    })

    it.each(selects)('%s', async (q, rows) => {
      const res = await query(q)
      expect(res.status, JSON.stringify(res.error)).toBe(200)
      expect(res.rows).toEqual(rows)
    })

    it.each(errors)('rejects %s with 400', async (q, message) => {
      const res = await query(q)
      expect(res.status).toBe(400)
      expect(res.error.code).toBe(surface.includes('rest') ? 'PGRST100' : 'invalid_query')
      expect(res.error.message).toMatch(message)
      expect(JSON.stringify(res.error)).not.toMatch(/syntax error at|postgres|relation "|agentry\./i)
    })
  })
}
