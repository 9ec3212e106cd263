// Composite indexes a dataset declares: checked against its columns, built CONCURRENTLY by the sync job on the
// dataset's table, shown with their state, serving the query they match under RLS, and dropped when left out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { selectRowsStatement } from '../../functions/_core/postgrest/statements.ts'
import { syncIndexesKind } from '../../functions/datasets/indexes.ts'
import { findDataset } from '../../functions/datasets/queries.ts'
import { parseRowRequest } from '../../functions/datasets/row-request.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
let t: Tenant
let key: string

beforeAll(async () => {
  api = await startApi()
  t = await createTenant()
  key = await t.key()
})
afterAll(() => api.close())

const columns = [
  { name: 'name', type: 'text' },
  { name: 'status', type: 'text' },
  { name: 'score', type: 'number' },
  { name: 'meta', type: 'json' },
]

const claims = (): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: t.org.id,
  agent_id: null,
  key_id: null,
  scopes: ['datasets:read'],
})

/** Runs the queued index syncs, as a runner would. */
async function syncIndexes() {
  await runJobBatch(serviceSql(), { handlers: { [syncIndexesKind]: jobHandlers[syncIndexesKind] }, budgetMs: 60_000 })
}

/** The composite indexes on the dataset's table, by their definitions' column lists. */
async function tableIndexes(id: string): Promise<string[]> {
  const rows = await serviceSql()<{ definition: string }[]>`
    select pg_get_indexdef(i.indexrelid) as definition from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = ${`datasets."${id}"`}::regclass and c.relname like 'dx\\_%' and i.indisvalid order by c.relname`
  return rows.map((r) => r.definition.replace(/^.* USING btree /, ''))
}

async function createLeads(indexes: unknown) {
  return api.call('POST', '/datasets', { key, body: { name: `Leads ${crypto.randomUUID().slice(0, 8)}`, columns, indexes } })
}

describe('the search index across a change of columns', () => {
  /** The dataset's search index, when present and valid. */
  async function searchIndex(id: string): Promise<string | null> {
    const [row] = await serviceSql()<{ definition: string }[]>`
      select pg_get_indexdef(i.indexrelid) as definition from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${`datasets."${id}"`}::regclass and c.relname = agentry.dataset_search_index(${id}) and i.indisvalid`
    return row ? row.definition.replace(/^.* USING gin /, '') : null
  }
  const search = async (id: string, words: string) =>
    (await api.call('GET', `/datasets/${id}/rows?search=${encodeURIComponent(words)}&select=name`, { key })).body.data

  it('goes with the change, search still answering from the table, and the job builds it again', async () => {
    const created = await api.call('POST', '/datasets', {
      key,
      body: {
        name: `Notes ${crypto.randomUUID().slice(0, 8)}`,
        columns: [
          { name: 'name', type: 'text' },
          { name: 'code', type: 'number' },
        ],
        open: true,
      },
    })
    const id = created.body.data.id as string
    expect(await searchIndex(id)).toMatch(/^\(agentry\.dataset_search_[0-9a-f]{32}\(/)
    await api.call('POST', `/datasets/${id}/rows`, {
      key,
      body: [
        { name: 'alpha', code: 4711, region: 'north' },
        { name: 'beta', code: 12, region: 'south' },
      ],
    })
    expect((await search(id, '4711')).rows).toEqual([{ name: 'alpha' }])

    // `code` becomes json and `region` a declared column: the values move, the words stay.
    const changed = await api.call('PATCH', `/datasets/${id}`, {
      key,
      body: {
        columns: [
          { name: 'name', type: 'text' },
          { name: 'code', type: 'json' },
          { name: 'region', type: 'text' },
        ],
      },
    })
    expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    expect(await searchIndex(id)).toBeNull()
    expect({ code: (await search(id, '4711')).rows, region: (await search(id, 'south')).rows }).toEqual({
      code: [{ name: 'alpha' }],
      region: [{ name: 'beta' }],
    })

    await syncIndexes()
    expect(await searchIndex(id)).toMatch(/^\(agentry\.dataset_search_[0-9a-f]{32}\(/)
    expect({
      code: (await search(id, '4711')).rows,
      region: (await search(id, 'south')).rows,
      none: (await search(id, 'west')).rows,
    }).toEqual({
      code: [{ name: 'alpha' }],
      region: [{ name: 'beta' }],
      none: [],
    })
  })
})

describe('declaring composite indexes', () => {
  it('builds a declared index in the background and shows it ready', async () => {
    const created = await createLeads([['status', 'score desc']])
    expect(created.status).toBe(201)
    expect(created.body.data.indexes).toEqual([{ columns: ['status', 'score desc'], state: 'building', reason: null }])
    await syncIndexes()
    const shown = await api.call('GET', `/datasets/${created.body.data.id}`, { key })
    expect(shown.body.data.indexes).toEqual([{ columns: ['status', 'score desc'], state: 'ready', reason: null }])
    expect(await tableIndexes(created.body.data.id)).toEqual(['(status, score DESC, _seq)'])
  })

  it('serves the filter and order it matches, under the policies', async () => {
    const created = await createLeads([['status', 'score desc']])
    const id = created.body.data.id as string
    // Scores in no relation to the order rows were stored in, as real ones are.
    const rows = Array.from({ length: 3000 }, (_, i) => ({ name: `lead ${i}`, status: `s${i % 30}`, score: (i * 7919) % 3000 }))
    for (let i = 0; i < rows.length; i += 1000) {
      expect((await api.call('POST', `/datasets/${id}/rows`, { key, body: rows.slice(i, i + 1000) })).status).toBe(201)
    }
    await syncIndexes()
    await serviceSql().unsafe(`analyze datasets."${id}"`)
    const [{ name }] = await serviceSql()<{ name: string }[]>`
      select index_name as name from agentry.dataset_indexes where dataset_id = ${id}`
    const request = parseRowRequest('http://test/rows?status=eq.s7&order=score.desc&limit=10')
    const explain = async (tx: { unsafe: (text: string, params: (string | null)[], o: object) => Promise<unknown[]> }) => {
      const dataset = await withTenant(claims(), (tenant) => findDataset(tenant, id))
      const statement = selectRowsStatement(dataset!, request.query, request.page)
      const rows = (await tx.unsafe(`explain ${statement.text}`, statement.params, { prepare: false })) as { 'QUERY PLAN': string }[]
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    }
    // Under the policies, the index finds the matching rows.
    const underPolicies = await withTenant(claims(), (tx) => explain(tx))
    expect(underPolicies).toMatch(new RegExp(`Index Scan (using|on) ${name}`))
    // It holds them in the order asked for too: with the planner's estimates undistorted by the policies' quals
    // (each of which it takes to pass 0.5 % of rows), it reads the first ten straight from it, with no sort.
    const asOwner = await explain(serviceSql() as never)
    expect(asOwner).toContain(`Index Scan using ${name}`)
    expect(asOwner).not.toContain('Sort')
    const page = await api.call('GET', `/datasets/${id}/rows?status=eq.s7&order=score.desc&limit=3&select=score`, { key })
    expect(page.body.data.rows).toEqual([{ score: 2993 }, { score: 2963 }, { score: 2933 }])
  })

  it('drops an index left out of the list', async () => {
    const created = await createLeads([['status', 'score desc'], ['name']])
    const id = created.body.data.id as string
    await syncIndexes()
    expect(await tableIndexes(id)).toHaveLength(2)
    const updated = await api.call('PATCH', `/datasets/${id}`, { key, body: { indexes: [['name']] } })
    expect(updated.status).toBe(200)
    expect(updated.body.data.indexes).toEqual([{ columns: ['name'], state: 'ready', reason: null }])
    await syncIndexes()
    expect(await tableIndexes(id)).toEqual(['(name, _seq)'])
  })

  it('reads "asc" and "desc" in any case and shows keys as declared columns', async () => {
    const created = await createLeads([['score DESC', 'name ASC']])
    expect(created.body.data.indexes).toEqual([{ columns: ['score desc', 'name'], state: 'building', reason: null }])
  })

  it('shows a build that cannot finish as failed, with the reason, and leaves no half-built index', async () => {
    // Eight text columns take the per-column B-trees, so the ninth may hold a value too large for an index entry.
    const many = [...'abcdefgh'].map((name) => ({ name, type: 'text' })).concat({ name: 'essay', type: 'text' })
    const made = await api.call('POST', '/datasets', { key, body: { name: `Essays ${crypto.randomUUID().slice(0, 8)}`, columns: many } })
    const id = made.body.data.id as string
    const essay = Buffer.from(crypto.getRandomValues(new Uint8Array(9000))).toString('base64')
    expect((await api.call('POST', `/datasets/${id}/rows`, { key, body: { essay } })).status).toBe(201)
    expect((await api.call('PATCH', `/datasets/${id}`, { key, body: { indexes: [['essay']] } })).status).toBe(200)
    await syncIndexes()
    const shown = await api.call('GET', `/datasets/${id}`, { key })
    expect(shown.body.data.indexes).toEqual([
      {
        columns: ['essay'],
        state: 'failed',
        reason: 'A value is too large for an index entry (a B-tree entry holds about 2,700 bytes); shorten it or index other columns.',
      },
    ])
    const left = await serviceSql()`
      select count(*)::int as n from pg_index i join pg_class c on c.oid = i.indexrelid
      where i.indrelid = ${`datasets."${id}"`}::regclass and c.relname like 'dx\\_%'`
    expect(left[0].n).toBe(0)
  })

  const refusals: [string, unknown, string][] = [
    ['an undeclared column', [['status', 'region']], 'indexes[0][1]: "region" is not a declared column'],
    ['a json column', [['meta']], 'indexes[0][0]: "meta" is a json column'],
    ['a column twice', [['status', 'status desc']], 'indexes[0] names "status" twice.'],
    ['the same index twice', [['status'], ['status asc']], 'indexes[1] is the same index as indexes[0].'],
  ]
  for (const [what, indexes, message] of refusals) {
    it(`refuses an index naming ${what}`, async () => {
      const res = await createLeads(indexes)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toContain(message)
    })
  }

  it('refuses more indexes than a dataset may have', async () => {
    const res = await createLeads([['name'], ['status'], ['score'], ['name', 'status'], ['status', 'name'], ['score', 'name']])
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
  })

  it('refuses dropping a column an index still uses', async () => {
    const created = await createLeads([['status', 'score desc']])
    const res = await api.call('PATCH', `/datasets/${created.body.data.id}`, {
      key,
      body: { columns: columns.filter((c) => c.name !== 'score') },
    })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain('indexes[0][1]: "score desc" is not a declared column')
  })
})
