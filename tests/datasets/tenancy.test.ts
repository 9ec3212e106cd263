// Tenancy of datasets in the database itself, below the API: what a tenant transaction can see and change
// whatever SQL it runs, and that reads through the claims-filtered view can still use the indexes.
import { describe, expect, it } from 'vitest'
import { withTenant, type TenantClaims } from '../../functions/_core/db.ts'
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

describe('dataset rows in the database', () => {
  it("shows a tenant none of another organisation's rows, through the view or the table", async () => {
    const a = await createTenant()
    const b = await createTenant()
    const theirs = await createDataset(a, { rows: [{ secret: 1 }] })
    const seen = await withTenant(claimsOf(b), async (tx) => ({
      view: await tx`select id from agentry.visible_dataset_rows where dataset_id = ${theirs.id}`,
      table: await tx`select id from agentry.dataset_rows where dataset_id = ${theirs.id}`,
      datasets: await tx`select id from agentry.datasets where id = ${theirs.id}`,
      updated: await tx`update agentry.dataset_rows set data = '{}' where dataset_id = ${theirs.id} returning id`,
      deleted: await tx`delete from agentry.dataset_rows where dataset_id = ${theirs.id} returning id`,
    }))
    expect(seen).toEqual({ view: [], table: [], datasets: [], updated: [], deleted: [] })
    await expect(
      withTenant(claimsOf(b), (tx) => tx`insert into agentry.dataset_rows (dataset_id, data) values (${theirs.id}, '{}')`),
    ).rejects.toMatchObject({ code: 'P0002' })
    const [still] = await withTenant(claimsOf(a), (tx) => tx`select data from agentry.visible_dataset_rows where dataset_id = ${theirs.id}`)
    expect(still.data).toEqual({ secret: 1 })
  })

  it("confines agent claims to the agent's own datasets, and needs a datasets scope", async () => {
    const t = await createTenant()
    const mine = await createDataset(t, { agent: 'agent', rows: [{ n: 1 }] })
    const orgWide = await createDataset(t, { rows: [{ n: 2 }] })
    const theirs = await createDataset(t, { agent: 'otherAgent', rows: [{ n: 3 }] })
    const rows = await withTenant(
      claimsOf(t, ['*'], 'agent'),
      (tx) => tx`select dataset_id from agentry.visible_dataset_rows where dataset_id in ${tx([mine.id, orgWide.id, theirs.id])}`,
    )
    expect(rows.map((r) => r.dataset_id)).toEqual([mine.id])
    const unscoped = await withTenant(
      claimsOf(t, ['keys:read']),
      (tx) => tx`select id from agentry.visible_dataset_rows where dataset_id = ${orgWide.id}`,
    )
    expect(unscoped).toEqual([])
    const readOnly = await withTenant(
      claimsOf(t, ['datasets:read']),
      (tx) => tx`delete from agentry.dataset_rows where dataset_id = ${orgWide.id} returning id`,
    )
    expect(readOnly).toEqual([])
  })

  it("takes a row's organisation and agent from its dataset, whatever the writer says", async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { agent: 'agent' })
    const [row] = await withTenant(
      claimsOf(t),
      (tx) => tx`insert into agentry.dataset_rows (dataset_id, data) values (${id}, '{"n":1}') returning org_id, agent_id`,
    )
    expect(row).toEqual({ org_id: t.org.id, agent_id: t.agent.id })
  })

  it("lets an ordered, filtered read through the view use the dataset's own indexes", async () => {
    const t = await createTenant()
    const rows = Array.from({ length: 2000 }, (_, i) => ({ status: i % 4 ? 'idle' : 'active', score: i }))
    const { id } = await createDataset(t, {
      columns: [
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
      ],
      rows,
    })
    await serviceSql().unsafe(`analyze agentry.dataset_rows_${id.replaceAll('-', '')}`)
    const plan = await withTenant(claimsOf(t), async (tx) => {
      return tx.unsafe(
        `explain select id from agentry.visible_dataset_rows where dataset_id = $1::uuid and ((data ->> 'score')::numeric) >= 1990 order ` +
          `by ((data ->> 'score')::numeric) desc limit 5`,
        [id],
      )
    })
    const text = plan.map((r) => r['QUERY PLAN']).join('\n')
    expect(text, text).toMatch(/Index Scan Backward using dataset_rows_[0-9a-f]{32}_[0-9a-f]{12}/)
  })
})
