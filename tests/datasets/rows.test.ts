import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteRowRoute } from '../../functions/datasets/delete-row.ts'
import { deleteRowsRoute } from '../../functions/datasets/delete-rows.ts'
import { insertRowsRoute } from '../../functions/datasets/insert-rows.ts'
import { listRowsRoute } from '../../functions/datasets/list-rows.ts'
import { updateRowRoute } from '../../functions/datasets/update-row.ts'
import { updateRowsRoute } from '../../functions/datasets/update-rows.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const columns = [
  { name: 'name', type: 'text' as const },
  { name: 'status', type: 'text' as const },
  { name: 'score', type: 'number' as const },
  { name: 'active', type: 'boolean' as const },
  { name: 'seen_at', type: 'timestamp' as const },
  { name: 'meta', type: 'json' as const },
]

const rowIdOf = async (datasetId: string) =>
  (await serviceSql().unsafe(`select id from datasets."${datasetId}" order by _seq limit 1`))[0].id as string
const withRow = (agent?: 'otherAgent') => async (t: Tenant) => createDataset(t, { agent, rows: [{ status: 'new' }] })
const datasetOf = (agent?: 'otherAgent') => async (t: Tenant) => ({ id: (await withRow(agent)(t)).id })
const rowOf = (agent?: 'otherAgent') => async (t: Tenant) => {
  const { id } = await withRow(agent)(t)
  return { id, rowId: await rowIdOf(id) }
}

describeSecurity(listRowsRoute, { params: datasetOf(), otherAgentParams: datasetOf('otherAgent') }, () => api)
describeSecurity(insertRowsRoute, { params: datasetOf(), body: { status: 'x' }, otherAgentParams: datasetOf('otherAgent') }, () => api)
describeSecurity(
  updateRowsRoute,
  { params: datasetOf(), query: 'status=eq.new', body: { status: 'y' }, otherAgentParams: datasetOf('otherAgent') },
  () => api,
)
describeSecurity(deleteRowsRoute, { params: datasetOf(), query: 'status=eq.new', otherAgentParams: datasetOf('otherAgent') }, () => api)
describeSecurity(updateRowRoute, { params: rowOf(), body: { status: 'y' }, otherAgentParams: rowOf('otherAgent') }, () => api)
describeSecurity(deleteRowRoute, { params: rowOf(), otherAgentParams: rowOf('otherAgent') }, () => api)

describe('inserting rows', () => {
  it('stores one object and answers 201 with it, id and timestamps added', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { columns })
    const res = await api.call('POST', `/datasets/${id}/rows`, {
      key: await t.key(),
      body: { name: 'Ada', score: 92.5, active: true, seen_at: '2026-11-23T10:00:00+01:00', meta: { tags: ['vip'] } },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toHaveLength(1)
    const [row] = res.body.data
    expect(row).toMatchObject({
      name: 'Ada',
      status: null,
      score: 92.5,
      active: true,
      seen_at: '2026-11-23T09:00:00.000Z',
      meta: { tags: ['vip'] },
    })
    expect(row.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Date.parse(row.created_at)).toBeGreaterThan(Date.now() - 60_000)
    expect(row.updated_at).toBe(row.created_at)
  })

  it('stores an array in order and keeps the row count', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t)
    const key = await t.key()
    const res = await api.call('POST', `/datasets/${id}/rows`, { key, body: [{ n: 1 }, { n: 2 }, { n: 3 }] })
    expect(res.status).toBe(201)
    expect(res.body.data.map((r: { n: number }) => r.n)).toEqual([1, 2, 3])
    const listed = await api.call('GET', `/datasets/${id}/rows`, { key })
    expect(listed.body.data.rows.map((r: { n: number }) => r.n)).toEqual([1, 2, 3])
    const dataset = await api.call('GET', `/datasets/${id}`, { key })
    expect(dataset.body.data.row_count).toBe(3)
  })

  it('takes a row id from the client, and refuses a second row with the same id with 409', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t)
    const key = await t.key()
    const rowId = crypto.randomUUID()
    const first = await api.call('POST', `/datasets/${id}/rows`, { key, body: { id: rowId, n: 1 } })
    expect(first.body.data[0].id).toBe(rowId)
    const again = await api.call('POST', `/datasets/${id}/rows`, { key, body: { id: rowId, n: 2 } })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('conflict')
  })

  it('refuses a value of the wrong type with 400 naming the row and the column, and stores nothing', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { columns })
    const key = await t.key()
    const res = await api.call('POST', `/datasets/${id}/rows`, {
      key,
      body: [
        { name: 'ok', score: 1 },
        { name: 'bad', score: 'high' },
      ],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.message).toBe('Invalid request: row 1, column "score": expected a number, got the text "high".')
    expect(res.body.error.fields).toEqual([{ field: '1.score', message: 'expected a number, got the text "high"' }])
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ active: 'yes' }, /"active": expected true or false/],
      [{ seen_at: 'yesterday' }, /"seen_at": expected an ISO 8601 timestamp/],
      [{ seen_at: '2026-02-30' }, /"seen_at": expected an ISO 8601 timestamp/],
      [{ name: 5 }, /"name": expected text, got number 5/],
      [{ unknown: 1 }, /has no column "unknown"/],
      [{ created_at: '2026-01-01' }, /created_at is set by the server/],
      [{ id: 'not-a-uuid' }, /id must be a UUID/],
      [{ name: 'a\u0000b' }, /NUL character/],
    ]
    for (const [body, message] of cases) {
      const r = await api.call('POST', `/datasets/${id}/rows`, { key, body })
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.message).toMatch(message)
    }
    expect((await api.call('GET', `/datasets/${id}`, { key })).body.data.row_count).toBe(0)
  })

  it('refuses more than 1000 rows at once and a body that is not rows', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t)
    const key = await t.key()
    const many = await api.call('POST', `/datasets/${id}/rows`, { key, body: Array.from({ length: 1001 }, (_, n) => ({ n })) })
    expect(many.status).toBe(400)
    expect(many.body.error.code).toBe('validation_failed')
    const scalar = await api.call('POST', `/datasets/${id}/rows`, { key, body: 42 })
    expect(scalar.status).toBe(400)
  })
})

describe('changing and deleting rows', () => {
  it('merges a patch into one row and leaves the other keys alone', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { columns, rows: [{ name: 'Ada', status: 'new', score: 1 }] })
    const rowId = await rowIdOf(id)
    const res = await api.call('PATCH', `/datasets/${id}/rows/${rowId}`, { key: await t.key(), body: { status: 'won', score: 2 } })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id: rowId, name: 'Ada', status: 'won', score: 2 })
    expect(Date.parse(res.body.data.updated_at)).toBeGreaterThan(Date.parse(res.body.data.created_at))
  })

  it('answers row_not_found for a row that does not exist and invalid_row_id for a malformed id', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t)
    const key = await t.key()
    const missing = await api.call('PATCH', `/datasets/${id}/rows/${crypto.randomUUID()}`, { key, body: { a: 1 } })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('row_not_found')
    const gone = await api.call('DELETE', `/datasets/${id}/rows/${crypto.randomUUID()}`, { key })
    expect(gone.body.error.code).toBe('row_not_found')
    const malformed = await api.call('DELETE', `/datasets/${id}/rows/row-1`, { key })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error).toEqual({
      code: 'invalid_row_id',
      message: 'Row id "row-1" is not a UUID: pass a row\'s id from a GET query.',
    })
  })

  it('does not reach a row of another dataset through this one', async () => {
    const t = await createTenant()
    const a = await createDataset(t, { rows: [{ n: 1 }] })
    const b = await createDataset(t, { rows: [{ n: 2 }] })
    const res = await api.call('DELETE', `/datasets/${a.id}/rows/${await rowIdOf(b.id)}`, { key: await t.key() })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('row_not_found')
  })

  it('deletes one row, answering with it, and keeps the count', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { rows: [{ n: 1 }, { n: 2 }] })
    const key = await t.key()
    const res = await api.call('DELETE', `/datasets/${id}/rows/${await rowIdOf(id)}`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data.n).toBe(1)
    expect((await api.call('GET', `/datasets/${id}`, { key })).body.data.row_count).toBe(1)
  })

  it('updates and deletes the rows matching filters in bulk', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, {
      columns,
      rows: [
        { status: 'new', score: 1 },
        { status: 'new', score: 5 },
        { status: 'old', score: 9 },
      ],
    })
    const key = await t.key()
    const updated = await api.call('PATCH', `/datasets/${id}/rows?status=eq.new&score=gt.2`, { key, body: { status: 'hot' } })
    expect(updated.body).toEqual({ data: { updated: 1 } })
    const deleted = await api.call('DELETE', `/datasets/${id}/rows?or=(status.eq.old,status.eq.hot)`, { key })
    expect(deleted.body).toEqual({ data: { deleted: 2 } })
    const left = await api.call('GET', `/datasets/${id}/rows`, { key })
    expect(left.body.data.rows.map((r: { score: number }) => r.score)).toEqual([1])
  })

  it('refuses a bulk update or delete without a filter', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { rows: [{ n: 1 }] })
    const key = await t.key()
    for (const [method, body] of [
      ['PATCH', { n: 2 }],
      ['DELETE', undefined],
    ] as const) {
      const res = await api.call(method, `/datasets/${id}/rows`, { key, body })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('invalid_query')
      expect(res.body.error.message).toMatch(/needs at least one filter/)
    }
    expect((await api.call('GET', `/datasets/${id}`, { key })).body.data.row_count).toBe(1)
  })
})

describe('locked datasets', () => {
  it('refuses each locked operation with 403 insufficient_scope, and allows the others', async () => {
    const t = await createTenant()
    const key = await t.key()
    const readOnly = await createDataset(t, { locked: ['insert', 'update', 'delete'], rows: [{ n: 1 }] })
    const rowId = await rowIdOf(readOnly.id)
    expect((await api.call('GET', `/datasets/${readOnly.id}/rows`, { key })).status).toBe(200)
    const insert = await api.call('POST', `/datasets/${readOnly.id}/rows`, { key, body: { n: 2 } })
    expect(insert.status).toBe(403)
    expect(insert.body.error).toEqual({ code: 'insufficient_scope', message: `Dataset "${readOnly.name}" is locked for inserting rows.` })
    expect((await api.call('PATCH', `/datasets/${readOnly.id}/rows/${rowId}`, { key, body: { n: 3 } })).status).toBe(403)
    expect((await api.call('DELETE', `/datasets/${readOnly.id}/rows?n=eq.1`, { key })).status).toBe(403)
    const writeOnly = await createDataset(t, { locked: ['read'] })
    const read = await api.call('GET', `/datasets/${writeOnly.id}/rows`, { key })
    expect(read.status).toBe(403)
    expect(read.body.error.message).toBe(`Dataset "${writeOnly.name}" is locked for reading.`)
    expect((await api.call('POST', `/datasets/${writeOnly.id}/rows`, { key, body: { n: 1 } })).status).toBe(201)
  })

  it('holds in the database too: a locked dataset refuses a write that skips the API', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { locked: ['insert'] })
    await expect(serviceSql().unsafe(`insert into datasets."${id}" default values`)).rejects.toMatchObject({
      code: '42501',
    })
  })
})

describe('pages, totals, distinct values and search', () => {
  it('answers { rows, total, columns } with total counting every matching row, not the page', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, {
      columns,
      rows: Array.from({ length: 30 }, (_, n) => ({ name: `n${n}`, score: n, status: n % 3 ? 'idle' : 'active' })),
    })
    const res = await api.call('GET', `/datasets/${id}/rows?status=eq.active&limit=4&offset=2&select=name,score`, { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({
      rows: [
        { name: 'n6', score: 6 },
        { name: 'n9', score: 9 },
        { name: 'n12', score: 12 },
        { name: 'n15', score: 15 },
      ],
      total: 10,
      columns: ['name', 'score'],
    })
    const all = await api.call('GET', `/datasets/${id}/rows?limit=1`, { key: await t.key() })
    expect(all.body.data.total).toBe(30)
    expect(all.body.data.columns).toEqual(['id', 'name', 'status', 'score', 'active', 'seen_at', 'meta', 'created_at', 'updated_at'])
  })

  it('rejects a limit outside 1–1000 and a negative or fractional offset with invalid_query', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t)
    const key = await t.key()
    for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'limit=ten', 'limit=1.5', 'offset=-1', 'offset=1.5', 'offset=x']) {
      const res = await api.call('GET', `/datasets/${id}/rows?${query}`, { key })
      expect(res.status, query).toBe(400)
      expect(res.body.error.code).toBe('invalid_query')
      expect(res.body.error.message).toMatch(/limit|offset/)
    }
  })

  it('lists the distinct values of a column among the matching rows, most frequent first', async () => {
    const t = await createTenant()
    const statuses = ['new', 'new', 'won', 'new', 'lost', 'won', null]
    const { id } = await createDataset(t, { columns, rows: statuses.map((status, n) => ({ status, score: n })) })
    const res = await api.call('GET', `/datasets/${id}/rows?distinct=status`, { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual({
      values: [
        { value: 'new', count: 3 },
        { value: 'won', count: 2 },
        { value: 'lost', count: 1 },
        { value: null, count: 1 },
      ],
      total_unique: 4,
      column: 'status',
    })
    const filtered = await api.call('GET', `/datasets/${id}/rows?distinct=status&score=gte.3&limit=1`, { key: await t.key() })
    expect(filtered.body.data).toEqual({ values: [{ value: 'lost', count: 1 }], total_unique: 4, column: 'status' })
  })

  it('searches the words of every string and number in the row, and counts the matches', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, {
      rows: [{ title: 'Quarterly revenue report', owner: 'Ada' }, { title: 'Hiring plan', notes: 'revenue impact' }, { title: 'Offsite' }],
    })
    const res = await api.call('GET', `/datasets/${id}/rows?search=revenue&select=title`, { key: await t.key() })
    expect(res.body.data.rows).toEqual([{ title: 'Quarterly revenue report' }, { title: 'Hiring plan' }])
    expect(res.body.data.total).toBe(2)
    const both = await api.call('GET', `/datasets/${id}/rows?search=revenue%20ada&select=title`, { key: await t.key() })
    expect(both.body.data.rows).toEqual([{ title: 'Quarterly revenue report' }])
  })
})
