// Moving datasets from the partitioned JSONB layout into tables of their own
// (sql/20261130000037_dataset_tables.sql) loses nothing: a database of its own is migrated up to the file
// before, filled the old way with varied rows, then given the move; every row comes back as it was shown
// before, in the same order, with the same times, search words, row counts and events.
import fs from 'node:fs'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { listMigrations } from '../../scripts/lib/migrations.ts'

const move = '20261130000037'

let admin: postgres.Sql
let sql: postgres.Sql
let name: string

interface Seeded {
  org: string
  agent: string
  otherOrg: string
  leads: string
  notes: string
  empty: string
  bulk: string
  theirs: string
  deleted: string
}
let seeded: Seeded
let before: Map<string, { seq: number; row: Record<string, unknown>; search: string }[]>
let datasetsBefore: { id: string; row_count: number; updated_at: string }[]
let eventsBefore: { type: string; n: number }[]

const declared: Record<string, string[]> = {}

beforeAll(async () => {
  const server = inject('databaseUrl')
  name = `migration_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  admin = postgres(server, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  sql = postgres(server.replace(/\/postgres$/, `/${name}`), { max: 1, onnotice: () => {} })
  for (const m of listMigrations().filter((m) => m.version < move)) await sql.unsafe(fs.readFileSync(m.file, 'utf8'))
  seeded = await seedOldLayout()
  for (const d of await sql<{ id: string; columns: { name: string }[] }[]>`select id, columns from agentry.datasets`) {
    declared[d.id] = d.columns.map((c) => c.name)
  }
  before = await oldRows()
  datasetsBefore = await datasetsNow()
  eventsBefore = await eventCounts()
  const [file] = listMigrations().filter((m) => m.version === move)
  await sql.unsafe(fs.readFileSync(file.file, 'utf8'))
}, 120_000)

afterAll(async () => {
  await sql?.end()
  await admin?.unsafe(`drop database if exists ${name} with (force)`)
  await admin?.end()
})

describe('moving JSONB datasets into their tables', () => {
  it('brings every row back as the API showed it, in insertion order, with its id, times and search words', async () => {
    const after = await newRows()
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort())
    let compared = 0
    for (const [id, rows] of before) {
      const moved = after.get(id)!
      expect(moved.map((r) => r.row.id)).toEqual(rows.map((r) => r.row.id))
      for (const [i, old] of rows.entries()) {
        // A declared column the row left out now reads as null; nothing else differs.
        const absent = Object.fromEntries(declared[id].filter((c) => !(c in old.row)).map((c) => [c, null]))
        expect(moved[i].row).toEqual({ ...absent, ...old.row })
        expect(moved[i].search).toBe(old.search)
        compared++
      }
      // Insertion order holds, and new rows come after the moved ones.
      const seqs = moved.map((r) => r.seq)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    }
    expect(compared).toBe(5 + 4 + 300 + 1)
  })

  it('stores declared values in typed columns, and a value its column could not hold as an undeclared key', async () => {
    const [ada] = await sql`select name, score, active, seen, meta, _extras from ${sql(`datasets.${seeded.leads}`)} where name = 'Ada'`
    expect(ada).toEqual({
      name: 'Ada',
      score: 92.5,
      active: true,
      seen: new Date('2026-11-23T10:00:00.123Z'),
      meta: { source: 'web', tags: ['a', 'b'] },
      _extras: {},
    })
    // More digits than a double holds: the exact number stays, as an undeclared key.
    const [huge] = await sql`select score, _extras::text as extras from ${sql(`datasets.${seeded.leads}`)} where name = 'Huge'`
    expect(huge).toEqual({ score: null, extras: '{"score": 12345678901234567890}' })
    const types = await sql<{ column: string; type: string }[]>`
      select attname as column, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${`datasets."${seeded.leads}"`}::regclass and attnum > 0 and not attisdropped order by attnum`
    expect(types).toEqual([
      { column: 'id', type: 'uuid' },
      { column: 'created_at', type: 'timestamp with time zone' },
      { column: 'updated_at', type: 'timestamp with time zone' },
      { column: '_seq', type: 'bigint' },
      { column: '_extras', type: 'jsonb' },
      { column: '_search', type: 'tsvector' },
      { column: 'name', type: 'text' },
      { column: 'score', type: 'double precision' },
      { column: 'active', type: 'boolean' },
      { column: 'seen', type: 'timestamp with time zone' },
      { column: 'meta', type: 'jsonb' },
    ])
  })

  it('keeps every row_count and updated_at, and raises no event for the move', async () => {
    expect(await datasetsNow()).toEqual(datasetsBefore.filter((d) => d.id !== seeded.deleted))
    for (const d of await datasetsNow()) {
      const [{ n }] = await sql<{ n: number }[]>`select count(*)::int as n from ${sql(`datasets.${d.id}`)}`
      expect(n, d.id).toBe(d.row_count)
    }
    expect(await eventCounts()).toEqual(eventsBefore)
  })

  it('removes the old layout, the partition of a dataset deleted before the move included', async () => {
    const [left] = await sql<{ tables: string[]; view: string | null; marker: string | null }[]>`
      select array(select relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'agentry' and relname like 'dataset_rows%' order by 1) as tables,
             to_regclass('agentry.visible_dataset_rows')::text as view,
             to_regclass('agentry.deleted_dataset_partitions')::text as marker`
    expect(left).toEqual({ tables: [], view: null, marker: null })
    const [{ table }] = await sql`select to_regclass(${`datasets."${seeded.deleted}"`})::text as table`
    expect(table).toBeNull()
  })

  it('raises the same events as before for rows written after the move, and keeps row_count', async () => {
    const [ada] = await sql<{ id: string }[]>`select id from ${sql(`datasets.${seeded.leads}`)} where name = 'Ada'`
    const previous = (await newRows()).get(seeded.leads)!.find((r) => r.row.id === ada.id)!.row
    await sql`update ${sql(`datasets.${seeded.leads}`)} set score = 93 where id = ${ada.id}`
    await sql`select agentry.insert_dataset_rows(${seeded.leads}, ${sql.json([{ name: 'Grace', score: 1 }] as never)})`
    await sql`delete from ${sql(`datasets.${seeded.leads}`)} where name = 'Grace'`
    const events = await sql<{ type: string; data: { dataset_id: string; row: Record<string, unknown>; previous?: unknown } }[]>`
      select type, data from agentry.events where org_id = ${seeded.org} and data ->> 'dataset_id' = ${seeded.leads}
      order by created_at desc, id desc limit 3`
    expect(events.map((e) => e.type)).toEqual(['dataset.row.deleted', 'dataset.row.created', 'dataset.row.updated'])
    const updated = events[2].data
    expect(updated.previous).toEqual(previous)
    expect(updated.row).toMatchObject({ ...previous, score: 93, updated_at: expect.any(String) })
    expect(events[1].data.row).toMatchObject({ name: 'Grace', score: 1, active: null, seen: null, meta: null })
    const [{ row_count }] = await sql`select row_count::int from agentry.datasets where id = ${seeded.leads}`
    expect(row_count).toBe(5)
  })

  it("lets a tenant read its own moved rows under the tables' policies, and no other organisation's", async () => {
    const read = (org: string, agent: string | null, table: string) =>
      sql.begin(async (tx) => {
        await tx`set local role authenticated`
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ org_id: org, agent_id: agent, scopes: ['datasets:read'] })}, true)`
        const [{ n }] = await tx<{ n: number }[]>`select count(*)::int as n from ${tx(`datasets.${table}`)}`
        return n
      })
    expect(await read(seeded.org, null, seeded.bulk)).toBe(300)
    expect(await read(seeded.org, seeded.agent, seeded.notes)).toBe(4)
    expect(await read(seeded.org, seeded.agent, seeded.bulk)).toBe(0)
    expect(await read(seeded.otherOrg, null, seeded.bulk)).toBe(0)
    expect(await read(seeded.otherOrg, null, seeded.theirs)).toBe(1)
  })
})

/** Organisations, datasets and rows written the old way, straight into agentry.dataset_rows. */
async function seedOldLayout(): Promise<Seeded> {
  const [{ id: org }] = await sql`insert into agentry.organisations (name) values ('Moving org') returning id`
  const [{ id: otherOrg }] = await sql`insert into agentry.organisations (name) values ('Bystander org') returning id`
  const [{ id: agent }] = await sql`insert into agentry.agents (org_id, name) values (${org}, 'Mover') returning id`
  await sql`insert into agentry.webhook_endpoints (org_id, url, events, secret)
            values (${org}, 'https://example.com/hook', '{dataset.row.*}', 'whsec_test')`
  const dataset = async (o: { org: string; agent?: string; name: string; columns?: unknown[]; open?: boolean }) => {
    const [{ id }] = await sql`
      insert into agentry.datasets (org_id, agent_id, name, columns, open)
      values (${o.org}, ${o.agent ?? null}, ${o.name}, ${sql.json((o.columns ?? []) as never)}, ${o.open ?? !o.columns})
      returning id`
    return id as string
  }
  const rows = (id: string, data: unknown[]) =>
    sql`insert into agentry.dataset_rows (dataset_id, data) select ${id}, value from jsonb_array_elements(${sql.json(data as never)}) with ordinality as t(value, n) order by n`
  const leads = await dataset({
    org,
    name: 'leads',
    columns: [
      { name: 'name', type: 'text' },
      { name: 'score', type: 'number' },
      { name: 'active', type: 'boolean' },
      { name: 'seen', type: 'timestamp' },
      { name: 'meta', type: 'json' },
    ],
    open: false,
  })
  await rows(leads, [
    { name: 'Ada', score: 92.5, active: true, seen: '2026-11-23T10:00:00.123Z', meta: { source: 'web', tags: ['a', 'b'] } },
    { name: 'Zoë "the" 🚀', score: -0.1, active: false, seen: '1999-12-31T23:59:59.999Z', meta: 'just text' },
    { name: null, score: 0, meta: null },
    {},
  ])
  await sql`insert into agentry.dataset_rows (dataset_id, data)
            values (${leads}, '{"name": "Huge", "score": 12345678901234567890, "meta": [1, "two", {"three": [null, true]}]}')`
  const notes = await dataset({ org, agent, name: 'notes', columns: [{ name: 'title', type: 'text' }], open: true })
  await rows(notes, [
    { title: 'first', _private: 'x', 'a key with spaces': 1, nested: { deep: { deeper: ['ok'] } } },
    { title: 'second', id2: 'not an id', tags: [], flag: false, n: 1e-7 },
    { untitled: true },
    // Stored before the API checked types, in a column of another type: kept as it was.
    { title: 42 },
  ])
  const empty = await dataset({ org, name: 'empty', columns: [{ name: 'at', type: 'timestamp' }] })
  const bulk = await dataset({ org, name: 'bulk' })
  await sql`insert into agentry.dataset_rows (dataset_id, data)
            select ${bulk}, jsonb_build_object('n', g, 'word', 'word' || g, 'even', g % 2 = 0) from generate_series(1, 300) g`
  const theirs = await dataset({ org: otherOrg, name: 'theirs', columns: [{ name: 'x', type: 'number' }] })
  await rows(theirs, [{ x: 1 }])
  // Deleted, its partition marked but not yet dropped when the move comes.
  const deleted = await dataset({ org, name: 'deleted' })
  await rows(deleted, [{ gone: true }])
  await sql`delete from agentry.datasets where id = ${deleted}`
  // An update, so that updated_at differs from created_at.
  await sql`update agentry.dataset_rows set data = data || '{"active": true}' where dataset_id = ${leads} and data ->> 'name' is null and data ? 'score'`
  return { org, agent, otherOrg, leads, notes, empty, bulk, theirs, deleted }
}

type Rows = Map<string, { seq: number; row: Record<string, unknown>; search: string }[]>

async function oldRows(): Promise<Rows> {
  const rows = await sql<{ dataset_id: string; seq: string; row: Record<string, unknown>; search: string }[]>`
    select r.dataset_id, r.seq,
           jsonb_build_object('id', r.id) || r.data || jsonb_build_object('created_at', r.created_at, 'updated_at', r.updated_at) as row,
           r.search::text as search
    from agentry.dataset_rows r join agentry.datasets d on d.id = r.dataset_id order by r.seq`
  const byDataset: Rows = new Map()
  for (const d of await sql<{ id: string }[]>`select id from agentry.datasets`) byDataset.set(d.id, [])
  for (const r of rows) byDataset.get(r.dataset_id)!.push({ seq: Number(r.seq), row: r.row, search: r.search })
  return byDataset
}

async function newRows(): Promise<Rows> {
  const byDataset: Rows = new Map()
  for (const d of await sql<{ id: string }[]>`select id from agentry.datasets`) {
    const rows = await sql<{ seq: string; row: Record<string, unknown>; search: string }[]>`
      select t._seq as seq, agentry.dataset_row_json(d.columns, to_jsonb(t)) as row, t._search::text as search
      from agentry.datasets d, ${sql(`datasets.${d.id}`)} t where d.id = ${d.id} order by t._seq`
    byDataset.set(
      d.id,
      rows.map((r) => ({ seq: Number(r.seq), row: r.row, search: r.search })),
    )
  }
  return byDataset
}

async function datasetsNow() {
  return sql<{ id: string; row_count: number; updated_at: string }[]>`
    select id, row_count::int as row_count, updated_at::text as updated_at from agentry.datasets order by id`
}

async function eventCounts() {
  return sql<{ type: string; n: number }[]>`select type, count(*)::int as n from agentry.events group by type order by type`
}
