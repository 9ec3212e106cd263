// A dataset's columns are its table's columns: changing them through PATCH /datasets/{id} is DDL on that table
// (sql/20261130000037_dataset_tables.sql), and deleting a dataset drops its table and nothing else's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

type Column = { name: string; type: 'text' | 'number' | 'boolean' | 'timestamp' | 'json' }

/** The table's declared columns and their SQL types, in order. */
async function tableColumns(datasetId: string): Promise<{ column: string; type: string }[]> {
  return serviceSql()<{ column: string; type: string }[]>`
    select attname as column, format_type(atttypid, atttypmod) as type from pg_attribute
    where attrelid = ${`datasets."${datasetId}"`}::regclass and attnum > 0 and not attisdropped
      and attname not in ('id', 'created_at', 'updated_at', '_seq', '_extras')
    order by attnum`
}

/** Every row as the API shows it, in insertion order. */
async function rowsOf(datasetId: string): Promise<Record<string, unknown>[]> {
  const rows = await serviceSql()<{ row: Record<string, unknown> }[]>`
    select agentry.dataset_row_json(d.columns, to_jsonb(t)) as row
    from agentry.datasets d, ${serviceSql()(`datasets.${datasetId}`)} t where d.id = ${datasetId} order by t._seq`
  return rows.map(({ row }) => {
    const { id: _id, created_at: _created, updated_at: _updated, ...values } = row
    return values
  })
}

async function indexedColumns(datasetId: string): Promise<string[]> {
  const rows = await serviceSql()<{ column: string }[]>`
    select a.attname as column from pg_index x
      join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
      join pg_class i on i.oid = x.indexrelid
    where x.indrelid = ${`datasets."${datasetId}"`}::regclass and i.relname ~ '_[0-9a-f]{12}$'
    order by a.attname`
  return rows.map((r) => r.column)
}

async function patchColumns(key: string, id: string, body: { columns?: Column[]; open?: boolean }) {
  return api.call('PATCH', `/datasets/${id}`, { key, body })
}

describe('changing the columns of a dataset', () => {
  it('adds a typed column, indexed, holding the values an open dataset had under that key', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, { open: true, rows: [{ score: 5, note: 'a' }, { note: 'b' }, { score: 7.5 }] })
    const res = await patchColumns(key, id, { columns: [{ name: 'score', type: 'number' }] })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(res.body.data.columns).toEqual([{ name: 'score', type: 'number' }])
    expect(await tableColumns(id)).toEqual([{ column: 'score', type: 'double precision' }])
    expect(await indexedColumns(id)).toEqual(['score'])
    const typed = await serviceSql()`select score from ${serviceSql()(`datasets.${id}`)} order by _seq`
    expect(typed.map((r) => r.score)).toEqual([5, null, 7.5])
    expect(await rowsOf(id)).toEqual([{ score: 5, note: 'a' }, { score: null, note: 'b' }, { score: 7.5 }])
  })

  it('drops a column, keeping its values as undeclared keys when the dataset is open', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, {
      open: true,
      columns: [
        { name: 'status', type: 'text' },
        { name: 'seen', type: 'timestamp' },
      ],
      rows: [{ status: 'new', seen: '2026-01-02T03:04:05.678Z', extra: 1 }, { status: 'old' }],
    })
    const res = await patchColumns(key, id, { columns: [{ name: 'status', type: 'text' }] })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(await tableColumns(id)).toEqual([{ column: 'status', type: 'text' }])
    expect(await indexedColumns(id)).toEqual(['status'])
    expect(await rowsOf(id)).toEqual([{ status: 'new', seen: '2026-01-02T03:04:05.678Z', extra: 1 }, { status: 'old' }])
  })

  it('refuses to drop a column of a closed dataset whose rows hold values in it, naming the row', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, {
      open: false,
      columns: [
        { name: 'status', type: 'text' },
        { name: 'owner', type: 'text' },
      ],
      rows: [{ status: 'new' }, { status: 'new', owner: 'ada' }],
    })
    const [held] = await serviceSql()`select id from ${serviceSql()(`datasets.${id}`)} where owner = 'ada'`
    const res = await patchColumns(key, id, { columns: [{ name: 'status', type: 'text' }] })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({
      code: 'validation_failed',
      message: `Invalid request: row ${held.id} has this key, which is not a declared column ("owner"); change or delete it first.`,
      fields: [{ field: 'columns', message: `row ${held.id} does not fit` }],
    })
    expect(await tableColumns(id)).toEqual([
      { column: 'status', type: 'text' },
      { column: 'owner', type: 'text' },
    ])
  })

  it('retypes a column whose every value fits the new type, changing no row as the API shows it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, {
      columns: [
        { name: 'when', type: 'text' },
        { name: 'score', type: 'number' },
      ],
      rows: [
        { when: '2026-05-06T07:08:09.010Z', score: 3 },
        { when: null, score: 4.25 },
      ],
    })
    const [{ updated }] = await serviceSql()`select array_agg(updated_at order by _seq) as updated from ${serviceSql()(`datasets.${id}`)}`
    const res = await patchColumns(key, id, {
      columns: [
        { name: 'when', type: 'timestamp' },
        { name: 'score', type: 'json' },
      ],
    })
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(await tableColumns(id)).toEqual([
      { column: 'when', type: 'timestamp with time zone' },
      { column: 'score', type: 'jsonb' },
    ])
    expect(await indexedColumns(id)).toEqual(['when'])
    expect(await rowsOf(id)).toEqual([
      { when: '2026-05-06T07:08:09.010Z', score: 3 },
      { when: null, score: 4.25 },
    ])
    const [after] = await serviceSql()`select array_agg(updated_at order by _seq) as updated from ${serviceSql()(`datasets.${id}`)}`
    expect(after.updated).toEqual(updated)
  })

  it('refuses a retype some value cannot survive with 400 naming the row, and leaves the table as it was', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, {
      columns: [{ name: 'code', type: 'text' }],
      rows: [{ code: '2026-01-01T00:00:00.000Z' }, { code: 'not a time' }],
    })
    const [misfit] = await serviceSql()`select id from ${serviceSql()(`datasets.${id}`)} where code = 'not a time'`
    const res = await patchColumns(key, id, { columns: [{ name: 'code', type: 'timestamp' }] })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.message).toBe(
      `Invalid request: row ${misfit.id} holds a value that is not timestamp ("code"); change or delete it first.`,
    )
    expect(await tableColumns(id)).toEqual([{ column: 'code', type: 'text' }])
    expect((await api.call('GET', `/datasets/${id}`, { key })).body.data.columns).toEqual([{ name: 'code', type: 'text' }])
  })

  it('gives a column whose name Postgres cannot hold as is a derived table column, and never shows it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const long = 'a name far longer than the sixty-three bytes Postgres allows for any identifier at all'
    const res = await api.call('POST', '/datasets', {
      key,
      body: {
        name: `Odd names ${crypto.randomUUID()}`,
        columns: [
          { name: long, type: 'text' },
          { name: '_private', type: 'number' },
          { name: 'ctid', type: 'boolean' },
        ],
      },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    expect(res.body.data.columns).toEqual([
      { name: long, type: 'text' },
      { name: '_private', type: 'number' },
      { name: 'ctid', type: 'boolean' },
    ])
    const columns = await tableColumns(res.body.data.id)
    expect(columns.map((c) => c.type)).toEqual(['text', 'double precision', 'boolean'])
    for (const c of columns) expect(c.column).toMatch(/^c_[0-9a-f]{20}$/)
  })

  it('gives up after the lock timeout with 409 while a long transaction reads the rows, and succeeds once it ends', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, { rows: [{ n: 1 }] })
    const reader = await serviceSql().reserve()
    try {
      await reader`begin`
      await reader`select count(*) from ${reader(`datasets.${id}`)}`
      const started = performance.now()
      const res = await patchColumns(key, id, { columns: [{ name: 'n', type: 'number' }] })
      expect(res.status, JSON.stringify(res.body)).toBe(409)
      expect(res.body.error.code).toBe('conflict')
      expect(performance.now() - started).toBeLessThan(15_000)
    } finally {
      await reader`commit`
      reader.release()
    }
    expect((await patchColumns(key, id, { columns: [{ name: 'n', type: 'number' }] })).status).toBe(200)
    expect(await tableColumns(id)).toEqual([{ column: 'n', type: 'double precision' }])
  }, 30_000)
})

describe('deleting a dataset', () => {
  it("drops only its own table: another dataset's open transaction neither blocks it nor is disturbed", async () => {
    const a = await createTenant()
    const b = await createTenant()
    const keyA = await a.key()
    const held = await createDataset(a, { rows: [{ n: 1 }, { n: 2 }] })
    const gone = await createDataset(b)
    await serviceSql()`select agentry.insert_dataset_rows(${gone.id},
      (select jsonb_agg(jsonb_build_object('n', g)) from generate_series(1, 5000) g))`
    const reader = await serviceSql().reserve()
    try {
      // A transaction on dataset A, left open: it holds a lock on A's table until it ends.
      await reader`begin`
      await reader`select count(*) from ${reader(`datasets.${held.id}`)}`
      const started = performance.now()
      const res = await api.call('DELETE', `/datasets/${gone.id}`, { key: await b.key() })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body.data).toMatchObject({ id: gone.id, row_count: 5000 })
      expect(performance.now() - started).toBeLessThan(5_000)
      const [{ table }] = await serviceSql()`select to_regclass(${`datasets."${gone.id}"`})::text as table`
      expect(table).toBeNull()
      // A's rows are still read and written, in and out of the open transaction.
      const [{ n }] = await reader<{ n: number }[]>`select count(*)::int as n from ${reader(`datasets.${held.id}`)}`
      expect(n).toBe(2)
      expect((await api.call('GET', `/datasets/${held.id}`, { key: keyA })).body.data.row_count).toBe(2)
      await serviceSql()`select agentry.insert_dataset_rows(${held.id}, '[{"n": 3}]')`
    } finally {
      await reader`commit`
      reader.release()
    }
    expect((await api.call('GET', `/datasets/${held.id}`, { key: keyA })).body.data.row_count).toBe(3)
  }, 30_000)

  it('answers 409 while a long transaction reads its own rows, and deletes it once that ends', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, { rows: [{ n: 1 }] })
    const reader = await serviceSql().reserve()
    try {
      await reader`begin`
      await reader`select count(*) from ${reader(`datasets.${id}`)}`
      const res = await api.call('DELETE', `/datasets/${id}`, { key })
      expect(res.status, JSON.stringify(res.body)).toBe(409)
      expect(res.body.error.message).toBe("The dataset's rows are in use by a long request; try again in a moment.")
    } finally {
      await reader`commit`
      reader.release()
    }
    expect((await api.call('GET', `/datasets/${id}`, { key })).status).toBe(200)
    expect((await api.call('DELETE', `/datasets/${id}`, { key })).status).toBe(200)
    expect((await api.call('GET', `/datasets/${id}`, { key })).status).toBe(404)
  }, 30_000)
})
