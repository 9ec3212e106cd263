// The PostgREST wire format over datasets (/rest/v1/{table}): what postgrest-js and other PostgREST clients
// read besides the rows — Content-Range, counts, Range, one-object responses, profiles, Prefer, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { restDeleteRoute } from '../../functions/datasets/rest/delete-rows.ts'
import { restInsertRoute } from '../../functions/datasets/rest/insert-rows.ts'
import { restReadRoute } from '../../functions/datasets/rest/read-rows.ts'
import { restUpdateRoute } from '../../functions/datasets/rest/update-rows.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const tableOf = (agent?: 'otherAgent') => async (t: Tenant) => ({ table: (await createDataset(t, { agent, rows: [{ n: 1 }] })).name })

describeSecurity(restReadRoute, { wire: 'postgrest', params: tableOf(), otherAgentParams: tableOf('otherAgent') }, () => api)
describeSecurity(
  restInsertRoute,
  { wire: 'postgrest', params: tableOf(), body: { n: 2 }, otherAgentParams: tableOf('otherAgent') },
  () => api,
)
// Without `Prefer: return=representation` a change answers 204, not the 200 that returns the rows.
describeSecurity(
  restUpdateRoute,
  { wire: 'postgrest', params: tableOf(), query: 'n=eq.1', body: { n: 2 }, okStatus: 204, otherAgentParams: tableOf('otherAgent') },
  () => api,
)
describeSecurity(
  restDeleteRoute,
  { wire: 'postgrest', params: tableOf(), query: 'n=eq.1', okStatus: 204, otherAgentParams: tableOf('otherAgent') },
  () => api,
)

const numbered = (count: number) => Array.from({ length: count }, (_, i) => ({ n: i + 1 }))

describe('reading rows', () => {
  it('answers a JSON array with Content-Range, and counts with Prefer: count=exact (206 for part of them)', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(15) })
    const key = await t.key()
    const plain = await api.call('GET', `/rest/v1/${name}?select=n&limit=5&offset=5`, { key })
    expect(plain.status).toBe(200)
    expect(plain.body).toEqual([{ n: 6 }, { n: 7 }, { n: 8 }, { n: 9 }, { n: 10 }])
    expect(plain.headers.get('content-range')).toBe('5-9/*')
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/)
    const counted = await api.call('GET', `/rest/v1/${name}?select=n&limit=5&offset=5&n=gt.2`, { key, headers: { prefer: 'count=exact' } })
    expect(counted.status).toBe(206)
    expect(counted.headers.get('content-range')).toBe('5-9/13')
    expect(counted.headers.get('preference-applied')).toBe('count=exact')
    const whole = await api.call('GET', `/rest/v1/${name}?select=n`, { key, headers: { prefer: 'count=exact' } })
    expect(whole.status).toBe(200)
    expect(whole.headers.get('content-range')).toBe('0-14/15')
  })

  it('honours a Range header on GET, intersected with limit and offset', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(10) })
    const key = await t.key()
    const ranged = await api.call('GET', `/rest/v1/${name}?select=n`, { key, headers: { range: '2-4' } })
    expect(ranged.body).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }])
    expect(ranged.headers.get('content-range')).toBe('2-4/*')
    const both = await api.call('GET', `/rest/v1/${name}?select=n&limit=3`, { key, headers: { range: '0-1' } })
    expect(both.body).toEqual([{ n: 1 }, { n: 2 }])
    const ignored = await api.call('GET', `/rest/v1/${name}?select=n&limit=1`, { key, headers: { range: 'items=0-5' } })
    expect(ignored.body).toEqual([{ n: 1 }])
  })

  it('answers 416 PGRST103 for an inverted range, a negative limit, and an offset past the counted rows', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(3) })
    const key = await t.key()
    const inverted = await api.call('GET', `/rest/v1/${name}`, { key, headers: { range: '5-2' } })
    expect(inverted.status).toBe(416)
    expect(inverted.body.code).toBe('PGRST103')
    const negative = await api.call('GET', `/rest/v1/${name}?limit=-1`, { key })
    expect(negative.status).toBe(416)
    expect(negative.body.message).toBe('Limit should be greater than or equal to zero.')
    const past = await api.call('GET', `/rest/v1/${name}?offset=10`, { key, headers: { prefer: 'count=exact' } })
    expect(past.status).toBe(416)
    expect(past.body.details).toBe('An offset of 10 was requested, but there are only 3 rows.')
    const empty = await api.call('GET', `/rest/v1/${name}?limit=0`, { key })
    expect(empty.status).toBe(200)
    expect(empty.body).toEqual([])
    expect(empty.headers.get('content-range')).toBe('*/*')
  })

  it('answers one object for Accept: application/vnd.pgrst.object+json, and 406 PGRST116 unless exactly one row matches', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(3) })
    const key = await t.key()
    const accept = { accept: 'application/vnd.pgrst.object+json' }
    const one = await api.call('GET', `/rest/v1/${name}?select=n&n=eq.2`, { key, headers: accept })
    expect(one.status).toBe(200)
    expect(one.body).toEqual({ n: 2 })
    expect(one.headers.get('content-type')).toMatch(/^application\/vnd\.pgrst\.object\+json/)
    const many = await api.call('GET', `/rest/v1/${name}?select=n`, { key, headers: accept })
    expect(many.status).toBe(406)
    expect(many.body).toEqual({
      code: 'PGRST116',
      message: 'Cannot coerce the result to a single JSON object',
      details: 'The result contains 3 rows',
      hint: null,
    })
    const none = await api.call('GET', `/rest/v1/${name}?n=eq.9`, { key, headers: accept })
    expect(none.body.details).toBe('The result contains 0 rows')
  })

  it('accepts the public profile only, and answers HEAD with headers alone', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(2) })
    const key = await t.key()
    expect((await api.call('GET', `/rest/v1/${name}`, { key, headers: { 'accept-profile': 'public' } })).status).toBe(200)
    const other = await api.call('GET', `/rest/v1/${name}`, { key, headers: { 'accept-profile': 'private' } })
    expect(other.status).toBe(406)
    expect(other.body).toMatchObject({ code: 'PGRST106', message: 'The schema must be one of the following: public' })
    const csv = await api.call('GET', `/rest/v1/${name}`, { key, headers: { accept: 'text/csv' } })
    expect(csv.status).toBe(406)
    expect(csv.body.code).toBe('PGRST107')
    const head = await fetch(`${api.base.replace(/\/v1$/, '')}/rest/v1/${name}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${key}`, prefer: 'count=exact' },
    })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-range')).toBe('0-1/2')
    expect(await head.text()).toBe('')
  })

  it('finds a dataset by its name or its id, and answers PGRST205 for a table that is not there', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { name: 'Leads 2026', rows: numbered(1) })
    const key = await t.key()
    expect((await api.call('GET', '/rest/v1/Leads%202026?select=n', { key })).body).toEqual([{ n: 1 }])
    expect((await api.call('GET', `/rest/v1/${id}?select=n`, { key })).body).toEqual([{ n: 1 }])
    const missing = await api.call('GET', '/rest/v1/leads', { key })
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({
      code: 'PGRST205',
      message: "Could not find the table 'public.leads' in the schema cache",
      details: null,
      hint: null,
    })
  })
})

describe('writing rows', () => {
  it('inserts with return=minimal by default and returns the rows, shaped by select, with return=representation', async () => {
    const t = await createTenant()
    const { id, name } = await createDataset(t)
    const key = await t.key()
    const minimal = await api.call('POST', `/rest/v1/${name}`, { key, body: { n: 1 } })
    expect(minimal.status).toBe(201)
    expect(minimal.body).toBe('')
    expect(minimal.headers.get('content-range')).toBe('*/*')
    const rep = await api.call('POST', `/rest/v1/${name}?select=n`, {
      key,
      body: [{ n: 2 }, { n: 3 }],
      headers: { prefer: 'return=representation, count=exact' },
    })
    expect(rep.status).toBe(201)
    expect(rep.body).toEqual([{ n: 2 }, { n: 3 }])
    expect(rep.headers.get('content-range')).toBe('*/2')
    expect(rep.headers.get('preference-applied')).toBe('return=representation, count=exact')
    const [{ count }] = await serviceSql().unsafe(`select count(*)::int as count from datasets."${id}"`)
    expect(count).toBe(3)
  })

  it('reads only the keys named by ?columns=, and refuses an unknown one in a closed dataset', async () => {
    const t = await createTenant()
    const closed = await createDataset(t, {
      columns: [
        { name: 'a', type: 'number' },
        { name: 'b', type: 'number' },
      ],
    })
    const key = await t.key()
    const res = await api.call('POST', `/rest/v1/${closed.name}?columns=a&select=a,b`, {
      key,
      body: [{ a: 1, b: 2 }],
      headers: { prefer: 'return=representation' },
    })
    expect(res.body).toEqual([{ a: 1, b: null }])
    const unknown = await api.call('POST', `/rest/v1/${closed.name}?columns=a,c`, { key, body: { a: 1 } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.code).toBe('PGRST204')
  })

  it('upserts on the row id: merge-duplicates merges, ignore-duplicates keeps the stored row', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t)
    const key = await t.key()
    const rowId = crypto.randomUUID()
    await api.call('POST', `/rest/v1/${name}`, { key, body: { id: rowId, a: 1, b: 1 } })
    const merged = await api.call('POST', `/rest/v1/${name}?on_conflict=id&select=id,a,b`, {
      key,
      body: [{ id: rowId, a: 2 }, { a: 9 }],
      headers: { prefer: 'resolution=merge-duplicates,return=representation' },
    })
    expect(merged.status).toBe(201)
    expect(merged.body[0]).toEqual({ id: rowId, a: 2, b: 1 })
    expect(merged.headers.get('preference-applied')).toBe('resolution=merge-duplicates, return=representation')
    const ignored = await api.call('POST', `/rest/v1/${name}?select=a`, {
      key,
      body: { id: rowId, a: 3 },
      headers: { prefer: 'resolution=ignore-duplicates,return=representation' },
    })
    expect(ignored.body).toEqual([])
    const plain = await api.call('POST', `/rest/v1/${name}`, { key, body: { id: rowId, a: 4 } })
    expect(plain.status).toBe(409)
    expect(plain.body.code).toBe('23505')
    const badTarget = await api.call('POST', `/rest/v1/${name}?on_conflict=email`, {
      key,
      body: { a: 1 },
      headers: { prefer: 'resolution=merge-duplicates' },
    })
    expect(badTarget.status).toBe(400)
  })

  it('merges an upsert into declared columns row by row: each row changes only the columns it sends', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, {
      columns: [
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
        { name: 'seen', type: 'timestamp' },
      ],
      open: true,
    })
    const key = await t.key()
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()]
    const stored = { status: 'new', score: 1, seen: '2026-01-02T03:04:05.678Z', extra: 'kept' }
    await api.call('POST', `/rest/v1/${name}`, {
      key,
      body: [
        { id: a, ...stored },
        { id: b, ...stored },
      ],
    })
    const merged = await api.call('POST', `/rest/v1/${name}?select=id,status,score,seen,extra,more`, {
      key,
      body: [
        { id: a, status: 'won', more: 1 },
        { id: b, score: null, seen: '2026-02-01T00:00:00+01:00' },
      ],
      headers: { prefer: 'resolution=merge-duplicates,return=representation' },
    })
    expect(merged.status).toBe(201)
    expect(merged.body).toEqual([
      { id: a, status: 'won', score: 1, seen: '2026-01-02T03:04:05.678Z', extra: 'kept', more: 1 },
      { id: b, status: 'new', score: null, seen: '2026-01-31T23:00:00.000Z', extra: 'kept', more: null },
    ])
  })

  it('updates and deletes with filters (204, or 200 with the rows), and refuses to touch every row', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(4) })
    const key = await t.key()
    const updated = await api.call('PATCH', `/rest/v1/${name}?n=gte.3`, { key, body: { big: true } })
    expect(updated.status).toBe(204)
    expect(updated.headers.get('content-range')).toBe('0-1/*')
    const rep = await api.call('PATCH', `/rest/v1/${name}?or=(n.eq.1,n.eq.2)&select=n,big`, {
      key,
      body: { big: false },
      headers: { prefer: 'return=representation' },
    })
    expect(rep.status).toBe(200)
    expect(rep.body).toEqual([
      { n: 1, big: false },
      { n: 2, big: false },
    ])
    const deleted = await api.call('DELETE', `/rest/v1/${name}?big=is.true&select=n`, {
      key,
      headers: { prefer: 'return=representation, count=exact' },
    })
    expect(deleted.body).toEqual([{ n: 3 }, { n: 4 }])
    expect(deleted.headers.get('content-range')).toBe('*/2')
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await api.call(method, `/rest/v1/${name}`, { key, body: method === 'PATCH' ? { big: null } : undefined })
      expect(res.status).toBe(400)
      expect(res.body).toMatchObject({ code: '21000', message: `${method === 'PATCH' ? 'UPDATE' : 'DELETE'} requires a WHERE clause` })
    }
    expect((await api.call('GET', `/rest/v1/${name}?select=n`, { key })).body).toEqual([{ n: 1 }, { n: 2 }])
  })

  it('refuses and undoes a write that breaks max-affected (handling=strict) or a single-object Accept', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, { rows: numbered(3) })
    const key = await t.key()
    const strict = await api.call('DELETE', `/rest/v1/${name}?n=gt.0`, { key, headers: { prefer: 'handling=strict, max-affected=2' } })
    expect(strict.status).toBe(400)
    expect(strict.body).toMatchObject({ code: 'PGRST124', details: 'The query affects 3 rows' })
    const single = await api.call('PATCH', `/rest/v1/${name}?n=gt.1`, {
      key,
      body: { x: 1 },
      headers: { prefer: 'return=representation', accept: 'application/vnd.pgrst.object+json' },
    })
    expect(single.status).toBe(406)
    expect((await api.call('GET', `/rest/v1/${name}?select=n&x=is.null`, { key })).body).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    const unknownPref = await api.call('GET', `/rest/v1/${name}`, { key, headers: { prefer: 'handling=strict, count=sometimes' } })
    expect(unknownPref.status).toBe(400)
    expect(unknownPref.body).toMatchObject({ code: 'PGRST122', details: 'Invalid preferences: count=sometimes' })
  })

  it("answers bad bodies and locks in PostgREST's error shape", async () => {
    const t = await createTenant()
    const typed = await createDataset(t, { columns: [{ name: 'n', type: 'number' }], locked: ['delete'], rows: [{ n: 1 }] })
    const key = await t.key()
    const wrong = await api.call('POST', `/rest/v1/${typed.name}`, { key, body: { n: 'one' } })
    expect(wrong.status).toBe(400)
    expect(wrong.body).toEqual({
      code: 'PGRST102',
      message: 'Invalid request: "n": expected a number, got the text "one".',
      details: 'n: expected a number, got the text "one"',
      hint: null,
    })
    const malformed = await api.call('POST', `/rest/v1/${typed.name}`, {
      key,
      rawBody: '{"n":',
      headers: { 'content-type': 'application/json' },
    })
    expect(malformed.status).toBe(400)
    expect(malformed.body.code).toBe('PGRST102')
    const locked = await api.call('DELETE', `/rest/v1/${typed.name}?n=eq.1`, { key })
    expect(locked.status).toBe(403)
    expect(locked.body).toMatchObject({ code: '42501', message: `Dataset "${typed.name}" is locked for deleting rows.` })
    expect(locked.headers.get('proxy-status')).toBe('PostgREST; error=42501')
  })
})
