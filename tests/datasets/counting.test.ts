// Counting matching rows: exactly by default, or by the planner's estimate when asked (count=planned|estimated on
// /datasets/{id}/rows, Prefer: count=… on the PostgREST surface, as supabase-js sends it).
import { createClient, type SupabaseClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// A threshold of 1,000 rows lets a few thousand rows stand for a large table.
vi.hoisted(() => {
  process.env.ROW_COUNT_ESTIMATE_THRESHOLD = '1000'
})

class NoWebSocket {}

let api: TestApi
let key: string
let dataset: { id: string; name: string }
let db: SupabaseClient

const batch = (n: number, status: string) => Array.from({ length: n }, (_, i) => ({ name: `${status} ${i}`, status, score: i }))

/** What the planner expects `status = <value>` to match in the dataset's table, asked outside the API. */
async function plannerRows(status: string): Promise<number> {
  const [row] = await serviceSql().unsafe(`explain (format json) select 1 from datasets."${dataset.id}" where status = $1`, [status])
  const plan = row['QUERY PLAN'] as [{ Plan: { 'Plan Rows': number } }]
  return plan[0].Plan['Plan Rows']
}

const rows = async (query: string) => {
  const res = await api.call('GET', `/datasets/${dataset.id}/rows?${query}`, { key })
  expect(res.status).toBe(200)
  return res.body.data as { total: number; total_estimated?: boolean }
}

beforeAll(async () => {
  api = await startApi()
  const t = await createTenant()
  key = await t.key()
  const name = `Leads ${crypto.randomUUID().slice(0, 8)}`
  const created = await api.call('POST', '/datasets', {
    key,
    body: {
      name,
      columns: [
        { name: 'name', type: 'text' },
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
      ],
    },
  })
  expect(created.status).toBe(201)
  dataset = { id: created.body.data.id, name }
  const sql = serviceSql()
  // Statistics are taken at 3,000 rows and kept there: 1,000 rows more make the planner's figures differ from a count.
  await sql.unsafe(`alter table datasets."${dataset.id}" set (autovacuum_enabled = false)`)
  for (const body of [batch(1000, 'active'), batch(1000, 'active'), [...batch(900, 'lost'), ...batch(100, 'new')]]) {
    expect((await api.call('POST', `/datasets/${dataset.id}/rows`, { key, body })).status).toBe(201)
  }
  await sql.unsafe(`analyze datasets."${dataset.id}"`)
  expect((await api.call('POST', `/datasets/${dataset.id}/rows`, { key, body: batch(1000, 'lost') })).status).toBe(201)
  db = createClient(api.base.replace(/\/v1$/, ''), key, {
    realtime: { transport: NoWebSocket as never },
    auth: { persistSession: false, autoRefreshToken: false },
  })
}, 120_000)
afterAll(() => api.close())

describe('counting on /datasets/{id}/rows', () => {
  it('counts exactly by default, with the envelope as it always was', async () => {
    const data = await rows('status=eq.active&limit=1')
    expect(data.total).toBe(2000)
    expect(Object.keys(data)).toEqual(['rows', 'total', 'columns'])
  })

  it('counts exactly with count=exact', async () => {
    expect((await rows('status=eq.active&limit=1&count=exact')).total).toBe(2000)
  })

  it("gives the planner's estimate, flagged, with count=estimated when the estimate is above the threshold", async () => {
    const estimate = await plannerRows('active')
    expect(estimate).toBeGreaterThan(1000)
    expect(estimate).not.toBe(2000)
    const data = await rows('status=eq.active&limit=1&count=estimated')
    expect(data.total).toBe(estimate)
    expect(data.total_estimated).toBe(true)
  })

  it('counts exactly with count=estimated when the estimate is below the threshold', async () => {
    const data = await rows('status=eq.new&limit=1&count=estimated')
    expect(data.total).toBe(100)
    expect(data.total_estimated).toBe(false)
  })

  it("gives the planner's estimate with count=planned, however small", async () => {
    const estimate = await plannerRows('new')
    expect(estimate).not.toBe(100)
    const data = await rows('status=eq.new&limit=1&count=planned')
    expect(data.total).toBe(estimate)
    expect(data.total_estimated).toBe(true)
  })

  it("gives the dataset's kept row count, exact, when nothing is filtered", async () => {
    const data = await rows('limit=1&count=estimated')
    expect(data.total).toBe(4000)
    expect(data.total_estimated).toBe(false)
  })

  it('refuses a count it does not know', async () => {
    const res = await api.call('GET', `/datasets/${dataset.id}/rows?count=approximate`, { key })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({ code: 'invalid_query', message: 'count must be exact, planned or estimated, got "approximate".' })
  })
})

describe('Prefer: count= on the PostgREST surface', () => {
  const counted = async (count: 'exact' | 'planned' | 'estimated', status: string) => {
    const res = await db.from(dataset.name).select('name', { count, head: true }).eq('status', status)
    expect(res.error).toBeNull()
    return res.count
  }

  it('counts exactly with count=exact', async () => {
    expect(await counted('exact', 'active')).toBe(2000)
  })

  it("gives the planner's estimate with count=planned", async () => {
    expect(await counted('planned', 'new')).toBe(await plannerRows('new'))
  })

  it('counts exactly below the threshold and estimates above it with count=estimated', async () => {
    expect(await counted('estimated', 'new')).toBe(100)
    expect(await counted('estimated', 'active')).toBe(await plannerRows('active'))
  })

  it('puts the estimate in Content-Range and still pages', async () => {
    const res = await api.call('GET', `/rest/v1/${encodeURIComponent(dataset.name)}?status=eq.active&select=name&limit=10`, {
      key,
      headers: { prefer: 'count=planned' },
    })
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe(`0-9/${await plannerRows('active')}`)
    expect(res.headers.get('preference-applied')).toBe('count=planned')
    expect(res.body).toHaveLength(10)
  })
})
