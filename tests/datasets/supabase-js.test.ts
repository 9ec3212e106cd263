// The real @supabase/supabase-js client, unchanged, against the PostgREST surface: what a developer writes
// with createClient(<function url>, <key>) must work as it does against a Supabase project.
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant } from '../harness/tenants.ts'

// Realtime is not used; supabase-js on Node 20 only needs some WebSocket class to construct the client.
class NoWebSocket {}

let api: TestApi
let db: SupabaseClient
let readOnly: SupabaseClient
let table: string

const leads = [
  { name: 'Ada', status: 'active', score: 92, tags: ['vip', 'eu'], notes: 'Met at the revenue summit' },
  { name: 'Bob', status: 'lost', score: 40, tags: ['us'], notes: 'Budget went elsewhere' },
  { name: 'Cyd', status: 'active', score: 71, tags: ['eu'], notes: null },
  { name: 'Dee', status: 'new', score: null, tags: [], notes: 'Inbound from the website' },
  { name: 'Eve', status: 'active', score: 85, tags: ['vip', 'us'], notes: 'Renewal due' },
]

const client = (key: string) =>
  createClient(api.base.replace(/\/v1$/, ''), key, {
    realtime: { transport: NoWebSocket as never },
    auth: { persistSession: false, autoRefreshToken: false },
  })

beforeAll(async () => {
  api = await startApi()
  const t = await createTenant()
  const dataset = await createDataset(t, {
    name: 'Leads',
    columns: [
      { name: 'name', type: 'text' },
      { name: 'status', type: 'text' },
      { name: 'score', type: 'number' },
      { name: 'tags', type: 'json' },
      { name: 'notes', type: 'text' },
    ],
    rows: leads,
  })
  table = dataset.name
  db = client(await t.key())
  readOnly = client(await t.key({ scopes: ['datasets:read'] }))
})
afterAll(() => api.close())

describe('supabase-js reads', () => {
  it('runs the README example: select with an exact count, eq, order and range', async () => {
    const { data, count, error, status } = await db
      .from(table)
      .select('name,status', { count: 'exact' })
      .eq('status', 'active')
      .order('name')
      .range(0, 9)
    expect(error).toBeNull()
    expect(status).toBe(200)
    expect(count).toBe(3)
    expect(data).toEqual([
      { name: 'Ada', status: 'active' },
      { name: 'Cyd', status: 'active' },
      { name: 'Eve', status: 'active' },
    ])
  })

  it('pages with range and reports the total as count', async () => {
    const { data, count, status } = await db
      .from(table)
      .select('name', { count: 'exact' })
      .order('score', { ascending: false, nullsFirst: false })
      .range(1, 2)
    expect(status).toBe(206)
    expect(count).toBe(5)
    expect(data).toEqual([{ name: 'Eve' }, { name: 'Cyd' }])
  })

  it('applies every filter builder', async () => {
    const names = async (query: PromiseLike<{ data: { name: string }[] | null; error: unknown }>) => {
      const { data, error } = await query
      expect(error).toBeNull()
      return data!.map((r) => r.name)
    }
    const from = () => db.from(table).select('name')
    expect(await names(from().neq('status', 'active'))).toEqual(['Bob', 'Dee'])
    expect(await names(from().gt('score', 71))).toEqual(['Ada', 'Eve'])
    expect(await names(from().gte('score', 71).lt('score', 90))).toEqual(['Cyd', 'Eve'])
    expect(await names(from().lte('score', 40))).toEqual(['Bob'])
    expect(await names(from().like('name', '%d%'))).toEqual(['Ada', 'Cyd'])
    expect(await names(from().ilike('name', 'a%'))).toEqual(['Ada'])
    expect(await names(from().in('status', ['new', 'lost']))).toEqual(['Bob', 'Dee'])
    expect(await names(from().is('score', null))).toEqual(['Dee'])
    expect(await names(from().not('score', 'is', null).not('status', 'eq', 'active'))).toEqual(['Bob'])
    expect(await names(from().or('score.lt.50,status.eq.new'))).toEqual(['Bob', 'Dee'])
    expect(await names(from().or('status.eq.lost,and(status.eq.active,score.gt.90)'))).toEqual(['Ada', 'Bob'])
    expect(await names(from().contains('tags', ['vip']))).toEqual(['Ada', 'Eve'])
    expect(await names(from().containedBy('tags', ['eu', 'us']))).toEqual(['Bob', 'Cyd', 'Dee'])
    expect(await names(from().overlaps('tags', ['us', 'xx']))).toEqual(['Bob', 'Eve'])
    expect(await names(from().textSearch('notes', 'revenue & summit', { config: 'english' }))).toEqual(['Ada'])
    expect(await names(from().textSearch('notes', 'budget elsewhere', { type: 'plain' }))).toEqual(['Bob'])
    expect(await names(from().match({ status: 'active', score: 85 }))).toEqual(['Eve'])
    expect(await names(from().filter('name', 'in', '(Ada,Bob)'))).toEqual(['Ada', 'Bob'])
    expect(await names(from().likeAnyOf('name', ['A%', 'E%']))).toEqual(['Ada', 'Eve'])
    expect(await names(from().order('name', { ascending: false }).limit(2))).toEqual(['Eve', 'Dee'])
  })

  it('returns one object with single() and maybeSingle(), and PGRST116 when there is not exactly one', async () => {
    const one = await db.from(table).select('name,score').eq('name', 'Cyd').single()
    expect(one.error).toBeNull()
    expect(one.data).toEqual({ name: 'Cyd', score: 71 })
    const none = await db.from(table).select('name').eq('name', 'Zed').maybeSingle()
    expect(none.error).toBeNull()
    expect(none.data).toBeNull()
    const many = await db.from(table).select('name').eq('status', 'active').single()
    expect(many.error?.code).toBe('PGRST116')
    expect(many.status).toBe(406)
  })

  it('counts without rows with head: true', async () => {
    const { count, data, error } = await db.from(table).select('*', { count: 'exact', head: true }).eq('status', 'active')
    expect(error).toBeNull()
    expect(data).toBeNull()
    expect(count).toBe(3)
  })

  it('reports errors as PostgREST does: a missing table, a bad filter, a missing scope', async () => {
    const missing = await db.from('Nope').select()
    expect(missing.error).toMatchObject({ code: 'PGRST205' })
    expect(missing.status).toBe(404)
    const bad = await db.from(table).select().filter('score', 'between', '1')
    expect(bad.error?.code).toBe('PGRST100')
    expect(bad.error?.message).toMatch(/failed to parse filter/)
    const denied = await readOnly.from(table).insert({ name: 'Zed' })
    expect(denied.status).toBe(403)
    expect(denied.error).toMatchObject({ code: '42501', message: 'This API key lacks the required scope "datasets:write".' })
  })
})

describe('supabase-js writes', () => {
  it('inserts, updates, upserts and deletes with filters', async () => {
    const t = await createTenant()
    const { name } = await createDataset(t, {
      name: 'Tasks',
      columns: [
        { name: 'title', type: 'text' },
        { name: 'done', type: 'boolean' },
      ],
    })
    const tasks = client(await t.key())

    const inserted = await tasks
      .from(name)
      .insert([
        { title: 'Write docs', done: false },
        { title: 'Ship', done: false },
      ])
      .select()
    expect(inserted.error).toBeNull()
    expect(inserted.status).toBe(201)
    expect(inserted.data!.map((r) => r.title)).toEqual(['Write docs', 'Ship'])
    const [docs, ship] = inserted.data!

    const plain = await tasks.from(name).insert({ title: 'Quietly' })
    expect(plain.error).toBeNull()
    expect(plain.data).toBeNull()

    const updated = await tasks.from(name).update({ done: true }).eq('id', docs.id).select('title,done').single()
    expect(updated.error).toBeNull()
    expect(updated.data).toEqual({ title: 'Write docs', done: true })

    const upserted = await tasks.from(name).upsert({ id: ship.id, done: true }).select('title,done')
    expect(upserted.error).toBeNull()
    expect(upserted.data).toEqual([{ title: 'Ship', done: true }])

    const deleted = await tasks.from(name).delete().eq('title', 'Quietly').select('title')
    expect(deleted.data).toEqual([{ title: 'Quietly' }])

    const everyRow = await tasks.from(name).delete().neq('title', '')
    expect(everyRow.error).toBeNull()
    const left = await tasks.from(name).select('*', { count: 'exact', head: true })
    expect(left.count).toBe(0)
  })

  it('refuses an update without a filter, as Supabase does', async () => {
    const { error, status } = await db.from(table).update({ status: 'lost' })
    expect(status).toBe(400)
    expect(error).toMatchObject({ code: '21000', message: 'UPDATE requires a WHERE clause' })
    const { count } = await db.from(table).select('*', { count: 'exact', head: true }).eq('status', 'lost')
    expect(count).toBe(1)
  })

  it('reports a value of the wrong type as a 400 naming the column', async () => {
    const { error, status } = await db.from(table).insert({ name: 'Zed', score: 'lots' })
    expect(status).toBe(400)
    expect(error?.message).toMatch(/"score": expected a number/)
  })
})
