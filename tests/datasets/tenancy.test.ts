// Tenancy of datasets in the database itself, below the API: what a tenant transaction can see and change
// in a dataset's table whatever SQL it runs, and that the row queries the API compiles, run under the
// table's RLS policies, can still use its indexes.
import { describe, expect, it } from 'vitest'
import { withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { parseRowRequest } from '../../functions/datasets/row-request.ts'
import { findDataset } from '../../functions/datasets/queries.ts'
import { countRowsStatement, selectRowsStatement } from '../../functions/_core/postgrest/statements.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

const claimsOf = (t: Tenant, scopes: string[] = ['*'], agent: 'agent' | null = null): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: t.org.id,
  agent_id: agent ? t.agent.id : null,
  key_id: null,
  scopes,
})

const tableOf = (datasetId: string) => `datasets."${datasetId}"`

describe('dataset rows in the database', () => {
  it("shows a tenant none of another organisation's rows in that dataset's table, and lets it change none", async () => {
    const a = await createTenant()
    const b = await createTenant()
    const theirs = await createDataset(a, { rows: [{ secret: 1 }] })
    const table = tableOf(theirs.id)
    const seen = await withTenant(claimsOf(b), async (tx) => ({
      rows: await tx.unsafe(`select id from ${table}`),
      datasets: await tx`select id from agentry.datasets where id = ${theirs.id}`,
      updated: await tx.unsafe(`update ${table} set _extras = '{}' returning id`),
      deleted: await tx.unsafe(`delete from ${table} returning id`),
    }))
    expect(seen).toEqual({ rows: [], datasets: [], updated: [], deleted: [] })
    await expect(withTenant(claimsOf(b), (tx) => tx.unsafe(`insert into ${table} default values`))).rejects.toMatchObject({
      code: '42501',
    })
    const [still] = await withTenant(claimsOf(a), (tx) => tx.unsafe(`select _extras from ${table}`))
    expect(still._extras).toEqual({ secret: 1 })
  })

  it("confines agent claims to the agent's own datasets, and needs a datasets scope", async () => {
    const t = await createTenant()
    const mine = await createDataset(t, { agent: 'agent', rows: [{ n: 1 }] })
    const orgWide = await createDataset(t, { rows: [{ n: 2 }] })
    const theirs = await createDataset(t, { agent: 'otherAgent', rows: [{ n: 3 }] })
    const seen = await withTenant(claimsOf(t, ['*'], 'agent'), async (tx) => ({
      mine: (await tx.unsafe(`select _extras from ${tableOf(mine.id)}`)).map((r) => r._extras),
      orgWide: (await tx.unsafe(`select _extras from ${tableOf(orgWide.id)}`)).map((r) => r._extras),
      theirs: (await tx.unsafe(`select _extras from ${tableOf(theirs.id)}`)).map((r) => r._extras),
    }))
    expect(seen).toEqual({ mine: [{ n: 1 }], orgWide: [], theirs: [] })
    const unscoped = await withTenant(claimsOf(t, ['keys:read']), (tx) => tx.unsafe(`select id from ${tableOf(orgWide.id)}`))
    expect(unscoped).toEqual([])
    const readOnly = await withTenant(claimsOf(t, ['datasets:read']), async (tx) => ({
      read: (await tx.unsafe(`select id from ${tableOf(orgWide.id)}`)).length,
      deleted: await tx.unsafe(`delete from ${tableOf(orgWide.id)} returning id`),
    }))
    expect(readOnly).toEqual({ read: 1, deleted: [] })
  })

  it('finds no search match in a dataset the claims do not reach, even calling the matcher directly', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const theirs = await createDataset(a, { rows: [{ secret: 'needle' }], agent: 'agent' })
    const matches = (claims: TenantClaims) =>
      withTenant(claims, async (tx) => (await tx`select agentry.dataset_search_matches(${theirs.id}, 'needle') as id`).length)
    expect({
      owner: await matches(claimsOf(a)),
      agent: await matches(claimsOf(a, ['datasets:read'], 'agent')),
      otherOrganisation: await matches(claimsOf(b)),
      unscoped: await matches(claimsOf(a, ['keys:read'])),
    }).toEqual({ owner: 1, agent: 1, otherOrganisation: 0, unscoped: 0 })
  })
})

describe('the plans of row queries under RLS', () => {
  const rows = Array.from({ length: 4000 }, (_, i) => ({
    name: `lead-${String(i).padStart(4, '0')}`,
    status: i % 4 ? 'idle' : 'active',
    score: i,
    signed_up: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
    note: `free text ${i}`,
  }))

  /** The plan of the page and the total the API runs for `query`, with the tenant's claims set. */
  async function plansFor(t: Tenant, datasetId: string, query: string): Promise<{ page: string; total: string }> {
    return withTenant(claimsOf(t, ['datasets:read']), async (tx) => {
      const dataset = await findDataset(tx, datasetId)
      if (!dataset) throw new Error('the dataset is not visible')
      const request = parseRowRequest(`http://test/rows?${query}`)
      const explain = async (s: { text: string; params: (string | null)[] }) =>
        (await tx.unsafe(`explain ${s.text}`, s.params, { prepare: false })).map((r) => r['QUERY PLAN']).join('\n')
      return {
        page: await explain(selectRowsStatement(dataset, request.query, request.page)),
        total: await explain(countRowsStatement(dataset, request.query)),
      }
    })
  }

  async function leads(t: Tenant) {
    const { id } = await createDataset(t, {
      columns: [
        { name: 'name', type: 'text' },
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
        { name: 'signed_up', type: 'timestamp' },
      ],
      open: true,
    })
    await serviceSql()`select agentry.insert_dataset_rows(${id}, ${serviceSql().json(rows as never)})`
    await serviceSql().unsafe(`analyze ${tableOf(id)}`)
    return id
  }

  // The index of a declared column, as agentry.sync_dataset_column_indexes names it.
  const indexScan = (datasetId: string) =>
    new RegExp(`Index (Only )?Scan( Backward)? using "?${datasetId.replaceAll('-', '')}_[0-9a-f]{12}"?`)
  const indexUse = (datasetId: string) =>
    new RegExp(`(Index (Only )?Scan( Backward)?|Bitmap Index Scan) (using|on) "?${datasetId.replaceAll('-', '')}_[0-9a-f]{12}"?`)

  it('serves eq, range with order, in and a LIKE prefix on typed columns from their B-trees, claims and all', async () => {
    const t = await createTenant()
    const id = await leads(t)
    const queries = [
      'name=eq.lead-0042',
      'score=gte.3990&order=score.desc&limit=5',
      'score=lt.10',
      'score=in.(5,6,7)',
      'name=in.(lead-0001,lead-0002)',
      'signed_up=gte.2026-01-03T18:00:00Z',
      'name=like.lead-001*',
    ]
    for (const query of queries) {
      const { page, total } = await plansFor(t, id, query)
      expect(page, `${query}\n${page}`).toMatch(indexUse(id))
      expect(page, `${query}\n${page}`).not.toMatch(/Seq Scan/)
      expect(total, `${query}\n${total}`).toMatch(indexUse(id))
      // The policy's claims are InitPlans, evaluated once, not per row.
      expect(page, page).toMatch(/InitPlan/)
    }
    const ordered = await plansFor(t, id, 'score=gte.3990&order=score.desc&limit=5')
    expect(ordered.page, ordered.page).toMatch(indexScan(id))
  })

  it('answers search= from the GIN index of the row document, then joins the ids under the policies', async () => {
    const t = await createTenant()
    const id = await leads(t)
    const { page, total } = await plansFor(t, id, 'search=lead-0042')
    // The ids come from the matcher; the table is joined to them (by its primary key, or by hashing them
    // when the table is this small), and never filtered by the document itself.
    for (const plan of [page, total]) {
      expect(plan, plan).toMatch(/(Hash Cond|Index Cond): \(t\.id = \(agentry\.dataset_search_matches\(/)
      expect(plan, plan).not.toMatch(/@@/)
    }
    // Inside the matcher, the document's own index answers.
    const [{ plan }] = await serviceSql()
      .unsafe(
        `explain select t.id from ${tableOf(id)} as t where agentry."dataset_search_${id.replaceAll('-', '')}"(t) @@ websearch_to_tsquery('simple', 'lead-0042')`,
      )
      .then((r) => [{ plan: r.map((x) => x['QUERY PLAN']).join('\n') }])
    expect(plan, plan).toMatch(new RegExp(`Bitmap Index Scan on "?${id.replaceAll('-', '')}_search`))
  })

  it('still answers an operator that is not leakproof (ilike, match) by scanning, under the same policies', async () => {
    const t = await createTenant()
    const id = await leads(t)
    for (const query of ['name=ilike.LEAD-001*', 'name=match.^lead-001', 'note=like.free*']) {
      const { page } = await plansFor(t, id, query)
      expect(page, `${query}\n${page}`).toMatch(new RegExp(`Seq Scan on "${id}"`))
    }
  })
})
