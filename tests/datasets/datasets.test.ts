import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatasetRoute } from '../../functions/datasets/create-dataset.ts'
import { deleteDatasetRoute } from '../../functions/datasets/delete-dataset.ts'
import { getDatasetRoute } from '../../functions/datasets/get-dataset.ts'
import { listDatasetsRoute } from '../../functions/datasets/list-datasets.ts'
import { updateDatasetRoute } from '../../functions/datasets/update-dataset.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const datasetOf = (agent?: 'otherAgent') => async (t: Tenant) => ({ id: (await createDataset(t, { agent })).id })

describeSecurity(listDatasetsRoute, {}, () => api)
describeSecurity(createDatasetRoute, { body: () => ({ name: `Leads ${crypto.randomUUID()}` }) }, () => api)
describeSecurity(getDatasetRoute, { params: datasetOf(), otherAgentParams: datasetOf('otherAgent') }, () => api)
describeSecurity(
  updateDatasetRoute,
  { params: datasetOf(), body: { description: 'x' }, otherAgentParams: datasetOf('otherAgent') },
  () => api,
)
describeSecurity(deleteDatasetRoute, { params: datasetOf(), otherAgentParams: datasetOf('otherAgent') }, () => api)

describe('creating datasets', () => {
  it('creates a dataset with typed columns and answers 201 with it', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/datasets', {
      key: await t.key(),
      body: {
        name: 'Leads',
        columns: [
          { name: 'status', type: 'text' },
          { name: 'score', type: 'number' },
        ],
        open: true,
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({
      name: 'Leads',
      agent_id: null,
      columns: [
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
      ],
      open: true,
      locked: [],
      row_count: 0,
      description: null,
    })
    expect(res.body.data.id).toMatch(/^[0-9a-f-]{36}$/)
    const listed = await api.call('GET', '/datasets', { key: await t.key({ scopes: ['datasets:read'] }) })
    expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([res.body.data.id])
  })

  it('is open by default without columns and closed by default with them', async () => {
    const t = await createTenant()
    const key = await t.key()
    const bare = await api.call('POST', '/datasets', { key, body: { name: 'Notes' } })
    const typed = await api.call('POST', '/datasets', { key, body: { name: 'Typed', columns: [{ name: 'a', type: 'text' }] } })
    expect(bare.body.data.open).toBe(true)
    expect(typed.body.data.open).toBe(false)
  })

  it("gives an agent key's dataset to its agent, and shows an agent key only its agent's datasets", async () => {
    const t = await createTenant()
    const agentKey = await t.key({ agent: 'agent' })
    const created = await api.call('POST', '/datasets', { key: agentKey, body: { name: 'Mine' } })
    expect(created.body.data.agent_id).toBe(t.agent.id)
    await createDataset(t, { agent: 'otherAgent', name: 'Theirs' })
    await createDataset(t, { name: 'Org-wide' })
    const mine = await api.call('GET', '/datasets', { key: agentKey })
    expect(mine.body.data.map((d: { name: string }) => d.name)).toEqual(['Mine'])
    const all = await api.call('GET', '/datasets', { key: await t.key() })
    expect(all.body.data.map((d: { name: string }) => d.name).sort()).toEqual(['Mine', 'Org-wide', 'Theirs'])
  })

  it('refuses a second dataset with the same name with 409', async () => {
    const t = await createTenant()
    const key = await t.key()
    expect((await api.call('POST', '/datasets', { key, body: { name: 'Leads' } })).status).toBe(201)
    const again = await api.call('POST', '/datasets', { key, body: { name: 'Leads' } })
    expect(again.status).toBe(409)
    expect(again.body.error).toEqual({ code: 'conflict', message: 'A dataset named "Leads" already exists in this organisation.' })
  })

  it('refuses renaming a dataset to the name of another with 409, and keeps its own name', async () => {
    const t = await createTenant()
    const key = await t.key()
    expect((await api.call('POST', '/datasets', { key, body: { name: 'Leads' } })).status).toBe(201)
    const { id } = (await api.call('POST', '/datasets', { key, body: { name: 'Prospects' } })).body.data
    const renamed = await api.call('PATCH', `/datasets/${id}`, { key, body: { name: 'Leads' } })
    expect(renamed.status).toBe(409)
    expect(renamed.body.error).toEqual({ code: 'conflict', message: 'A dataset named "Leads" already exists in this organisation.' })
    expect((await api.call('GET', `/datasets/${id}`, { key })).body.data.name).toBe('Prospects')
  })

  it('refuses bad columns with 400 naming the field', async () => {
    const t = await createTenant()
    const key = await t.key()
    const cases: [unknown, RegExp][] = [
      [[{ name: 'a', type: 'integer' }], /columns\.0\.type/],
      [[{ name: 'id', type: 'text' }], /kept by the server/],
      [
        [
          { name: 'a', type: 'text' },
          { name: 'a', type: 'number' },
        ],
        /unique/,
      ],
      [[{ name: '', type: 'text' }], /columns\.0\.name/],
    ]
    for (const [columns, message] of cases) {
      const res = await api.call('POST', '/datasets', { key, body: { name: 'X', columns } })
      expect(res.status, JSON.stringify(columns)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toMatch(message)
    }
  })

  it("answers 404 for another organisation's agent", async () => {
    const t = await createTenant()
    const other = await createTenant()
    const res = await api.call('POST', '/datasets', { key: await t.key(), body: { name: 'X', agent_id: other.agent.id } })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
  })
})

describe('changing and deleting datasets', () => {
  it('renames, locks and re-types columns', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createDataset(t, { columns: [{ name: 'score', type: 'text' }], rows: [{ score: null }] })
    const res = await api.call('PATCH', `/datasets/${id}`, {
      key,
      body: { name: 'Renamed', locked: ['update', 'delete', 'update'], columns: [{ name: 'score', type: 'number' }] },
    })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      name: 'Renamed',
      locked: ['update', 'delete'],
      columns: [{ name: 'score', type: 'number' }],
      row_count: 1,
    })
  })

  it('refuses a column change that stored rows would not fit, naming the row', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { open: true, rows: [{ score: 'high' }] })
    const [row] = await serviceSql()`select id from ${serviceSql()(`datasets.${id}`)}`
    const key = await t.key()
    const retype = await api.call('PATCH', `/datasets/${id}`, { key, body: { columns: [{ name: 'score', type: 'number' }] } })
    expect(retype.status).toBe(400)
    expect(retype.body.error.code).toBe('validation_failed')
    expect(retype.body.error.message).toContain(row.id)
    expect(retype.body.error.message).toContain('"score"')
    const close = await api.call('PATCH', `/datasets/${id}`, { key, body: { open: false } })
    expect(close.status).toBe(400)
    expect(close.body.error.message).toMatch(/not a declared column/)
  })

  it('deletes a dataset with its rows, and its name can be used again', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id, name } = await createDataset(t, { rows: [{ a: 1 }, { a: 2 }] })
    const res = await api.call('DELETE', `/datasets/${id}`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id, row_count: 2 })
    expect((await api.call('GET', `/datasets/${id}`, { key })).status).toBe(404)
    expect((await api.call('POST', '/datasets', { key, body: { name } })).status).toBe(201)
    expect(await tableOf(id)).toBeNull()
  })

  it('rejects a dataset id that is not a UUID with 400', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/datasets/leads', { key: await t.key() })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/Dataset id must be a UUID/)
  })
})

/** The dataset's table, while it exists. */
async function tableOf(datasetId: string): Promise<string | null> {
  const [{ table }] = await serviceSql()<{ table: string | null }[]>`select to_regclass(${`datasets."${datasetId}"`})::text as table`
  return table
}

describe("the plan's dataset cap", () => {
  let tiny: string

  beforeAll(async () => {
    tiny = `tiny_datasets_${crypto.randomUUID().slice(0, 8)}`
    await serviceSql()`insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests, max_datasets) values
      (${tiny}, 'Tiny', 1000000, 16, 2)`
  })

  async function tenantOnTinyPlan(): Promise<Tenant> {
    const t = await createTenant()
    await serviceSql()`update agentry.organisations set plan = ${tiny} where id = ${t.org.id}`
    return t
  }

  it('answers 409 naming the cap and the plan to one dataset more than the plan allows', async () => {
    const t = await tenantOnTinyPlan()
    const key = await t.key()
    const create = (name: string) => api.call('POST', '/datasets', { key, body: { name } })
    const first = await create('one')
    expect(first.status).toBe(201)
    expect((await create('two')).status).toBe(201)
    const third = await create('three')
    expect(third.status).toBe(409)
    expect(third.body).toEqual({
      error: {
        code: 'conflict',
        message:
          'This organisation has 2 datasets, the most its plan (Tiny) allows (max_datasets: 2). Delete one, or ' +
          'move to a plan that allows more.',
      },
    })
    expect((await api.call('DELETE', `/datasets/${first.body.data.id}`, { key })).status).toBe(200)
    expect((await create('three')).status).toBe(201)
  })

  it('holds under concurrent creations: of eight at once, two are made', async () => {
    const t = await tenantOnTinyPlan()
    const key = await t.key()
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => api.call('POST', '/datasets', { key, body: { name: `race ${i}` } })),
    )
    expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409, 409, 409, 409])
    const [{ n }] = await serviceSql()<{ n: number }[]>`select count(*)::int as n from agentry.datasets where org_id = ${t.org.id}`
    expect(n).toBe(2)
  })

  it('binds every way in, not only the API', async () => {
    const t = await tenantOnTinyPlan()
    await createDataset(t)
    await createDataset(t)
    await expect(createDataset(t)).rejects.toMatchObject({ code: '23514', constraint_name: 'max_datasets' })
  })
})
