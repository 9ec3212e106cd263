import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const datasetPath = async (t: Tenant) => `/datasets/${(await createDataset(t)).id}`
const otherAgentDatasetPath = async (t: Tenant) => `/datasets/${(await createDataset(t, { agent: 'otherAgent' })).id}`

describeSecurity('GET /datasets', { method: 'GET', path: () => '/datasets', scope: 'datasets:read', okStatus: 200 }, () => api)
describeSecurity('POST /datasets', { method: 'POST', path: () => '/datasets', body: () => ({ name: `Leads ${crypto.randomUUID()}` }), scope: 'datasets:write', okStatus: 201 }, () => api)
describeSecurity('GET /datasets/{id}', { method: 'GET', path: datasetPath, scope: 'datasets:read', okStatus: 200, addressesResource: true, otherAgentPath: otherAgentDatasetPath }, () => api)
describeSecurity('PATCH /datasets/{id}', { method: 'PATCH', path: datasetPath, body: { description: 'x' }, scope: 'datasets:write', okStatus: 200, addressesResource: true, otherAgentPath: otherAgentDatasetPath }, () => api)
describeSecurity('DELETE /datasets/{id}', { method: 'DELETE', path: datasetPath, scope: 'datasets:write', okStatus: 200, addressesResource: true, otherAgentPath: otherAgentDatasetPath }, () => api)

describe('creating datasets', () => {
  it('creates a dataset with typed columns and answers 201 with it', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/datasets', {
      key: await t.key(),
      body: { name: 'Leads', columns: [{ name: 'status', type: 'text' }, { name: 'score', type: 'number' }], open: true },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({
      name: 'Leads',
      agent_id: null,
      columns: [{ name: 'status', type: 'text' }, { name: 'score', type: 'number' }],
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

  it('gives an agent key\'s dataset to its agent, and shows an agent key only its agent\'s datasets', async () => {
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

  it('refuses bad columns with 400 naming the field', async () => {
    const t = await createTenant()
    const key = await t.key()
    const cases: [unknown, RegExp][] = [
      [[{ name: 'a', type: 'integer' }], /columns\.0\.type/],
      [[{ name: 'id', type: 'text' }], /kept by the server/],
      [[{ name: 'a', type: 'text' }, { name: 'a', type: 'number' }], /unique/],
      [[{ name: '', type: 'text' }], /columns\.0\.name/],
    ]
    for (const [columns, message] of cases) {
      const res = await api.call('POST', '/datasets', { key, body: { name: 'X', columns } })
      expect(res.status, JSON.stringify(columns)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toMatch(message)
    }
  })

  it('answers 404 for another organisation\'s agent', async () => {
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
    expect(res.body.data).toMatchObject({ name: 'Renamed', locked: ['update', 'delete'], columns: [{ name: 'score', type: 'number' }], row_count: 1 })
  })

  it('refuses a column change that stored rows would not fit, naming the row', async () => {
    const t = await createTenant()
    const { id } = await createDataset(t, { open: true, rows: [{ score: 'high' }] })
    const [row] = await serviceSql()`select id from agentry.dataset_rows where dataset_id = ${id}`
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
    const [partition] = await serviceSql()`select to_regclass(${`agentry.${'dataset_rows_' + id.replaceAll('-', '')}`}) as oid`
    expect(partition.oid).toBeNull()
    expect((await api.call('POST', '/datasets', { key, body: { name } })).status).toBe(201)
  })

  it('rejects a dataset id that is not a UUID with 400', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/datasets/leads', { key: await t.key() })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/Dataset id must be a UUID/)
  })
})
