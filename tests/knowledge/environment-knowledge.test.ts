// Connic's knowledge routes: text uploaded per environment into its default base, at our paths and at
// Connic's own (/projects/{org_id}/knowledge/…).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteEntryRoute, deleteProjectEntryRoute } from '../../functions/knowledge/delete-entry.ts'
import { listEntriesRoute, listProjectEntriesRoute } from '../../functions/knowledge/list-entries.ts'
import { uploadProjectTextRoute, uploadTextRoute } from '../../functions/knowledge/upload-text.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createEntry, environmentOf, indexingJobsOf } from './fixtures.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const inProduction = async (t: Tenant) => `environment_id=${await environmentOf(t)}`
const project = (t: Tenant) => ({ org_id: t.org.id })
const entry = async (t: Tenant) => createEntry(t, await environmentOf(t))
const text = { content: 'Refunds take five days.', namespace: 'docs.api' }

describeSecurity(uploadTextRoute, { query: inProduction, body: text, okStatus: 201 }, () => api)
describeSecurity(uploadProjectTextRoute, { params: project, query: inProduction, body: text, okStatus: 201 }, () => api)
describeSecurity(listEntriesRoute, { query: inProduction }, () => api)
describeSecurity(listProjectEntriesRoute, { params: project, query: inProduction }, () => api)
describeSecurity(deleteEntryRoute, { params: entry, query: inProduction }, () => api)
describeSecurity(deleteProjectEntryRoute, { params: async (t) => ({ ...project(t), ...(await entry(t)) }), query: inProduction }, () => api)

async function setUp() {
  const t = await createTenant()
  return { t, key: await t.key(), env: await environmentOf(t) }
}

describe('POST /knowledge/text', () => {
  it("puts the text into the environment's default base, made on first use, queued for indexing", async () => {
    const { key, env } = await setUp()
    const first = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: text })
    expect(first.status).toBe(201)
    expect(first.body.data).toMatchObject({
      content: 'Refunds take five days.',
      text: 'Refunds take five days.',
      content_type: 'text',
      namespace: 'docs.api',
      entry_id: null,
      status: 'queued',
      content_version: 1,
    })
    expect(await indexingJobsOf(first.body.data.id)).toHaveLength(1)
    const second = await api.call('POST', `/knowledge/text?environment_id=${env}`, {
      key,
      body: { content: 'Shipping is free.', namespace: 'docs' },
    })
    expect(second.status).toBe(201)
    expect(second.body.data.base_id).toBe(first.body.data.base_id)
    const bases = await api.call('GET', '/bases', { key })
    expect(bases.body.data).toEqual([
      expect.objectContaining({ id: first.body.data.base_id, environment_id: env, is_default: true, name: 'production knowledge' }),
    ])
  })

  it('replaces the entry with the same entry_id, queueing its new version once', async () => {
    const { key, env } = await setUp()
    const created = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: { ...text, entry_id: 'my-custom-id' } })
    expect(created.status).toBe(201)
    const replaced = await api.call('POST', `/knowledge/text?environment_id=${env}`, {
      key,
      body: { content: 'Refunds take three days.', namespace: 'docs.v2', entry_id: 'my-custom-id' },
    })
    expect(replaced.status).toBe(200)
    expect(replaced.body.data).toMatchObject({
      id: created.body.data.id,
      content: 'Refunds take three days.',
      namespace: 'docs.v2',
      entry_id: 'my-custom-id',
      status: 'queued',
      content_version: 2,
    })
    expect((await indexingJobsOf(created.body.data.id)).map((j) => [j.status, j.payload.content_version])).toEqual([['queued', 2]])
    const entries = await api.call('GET', `/knowledge/entries?environment_id=${env}`, { key })
    expect(entries.body.data.map((e: { id: string }) => e.id)).toEqual([created.body.data.id])
  })

  it('keeps each environment’s entries in a base of its own', async () => {
    const { t, key, env } = await setUp()
    const development = await environmentOf(t, 'development')
    const a = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: { ...text, entry_id: 'same' } })
    const b = await api.call('POST', `/knowledge/text?environment_id=${development}`, { key, body: { ...text, entry_id: 'same' } })
    expect(b.status).toBe(201)
    expect(b.body.data.base_id).not.toBe(a.body.data.base_id)
    expect((await api.call('GET', `/knowledge/entries?environment_id=${development}`, { key })).body.data).toHaveLength(1)
  })

  it('answers 400 without environment_id or with a malformed one, and 404 for an environment of another organisation', async () => {
    const { t, key } = await setUp()
    const missing = await api.call('POST', '/knowledge/text', { key, body: text })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe(
      'Invalid request: environment_id: environment_id is required: the id of one of your environments (GET /org lists them).',
    )
    const malformed = await api.call('POST', '/knowledge/text?environment_id=production', { key, body: text })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.message).toBe(
      'Invalid request: environment_id: environment_id must be the UUID of one of your environments (GET /org lists them).',
    )
    const foreign = await environmentOf(await createTenant())
    for (const id of [foreign, crypto.randomUUID()]) {
      const res = await api.call('POST', `/knowledge/text?environment_id=${id}`, { key, body: text })
      expect(res.status).toBe(404)
      expect(res.body.error).toEqual({ code: 'not_found', message: `Environment ${id} not found: GET /org lists your environments.` })
    }
    expect(await serviceSql()`select id from agentry.knowledge_bases where org_id = ${t.org.id}`).toEqual([])
  })

  it('refuses a body without content or namespace', async () => {
    const { key, env } = await setUp()
    for (const [body, field] of [
      [{ namespace: 'docs' }, 'content'],
      [{ content: 'x' }, 'namespace'],
      [{ content: 'x', namespace: 'docs', entry_id: '' }, 'entry_id'],
    ] as const) {
      const res = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toEqual([field])
    }
  })

  it('lets an agent key upload only once the default base is linked to its agent', async () => {
    const { t, key, env } = await setUp()
    const agentKey = await t.key({ agent: 'agent' })
    const refused = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key: agentKey, body: text })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('insufficient_scope')
    expect(refused.body.error.message).toMatch(/^The production environment's knowledge base is not linked to this agent/)
    const made = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: text })
    await api.call('PATCH', `/bases/${made.body.data.base_id}`, { key, body: { agent_ids: [t.agent.id] } })
    const admitted = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key: agentKey, body: text })
    expect(admitted.status).toBe(201)
    expect(admitted.body.data.base_id).toBe(made.body.data.base_id)
  })
})

describe('GET /knowledge/entries and DELETE /knowledge/entries/{entry_id}', () => {
  it('lists nothing before the first upload, without making a base', async () => {
    const { t, key, env } = await setUp()
    const res = await api.call('GET', `/knowledge/entries?environment_id=${env}`, { key })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ data: [], next_cursor: null, has_more: false })
    expect(await serviceSql()`select id from agentry.knowledge_bases where org_id = ${t.org.id}`).toEqual([])
  })

  it('lists the entries of one namespace', async () => {
    const { key, env } = await setUp()
    await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: { content: 'a', namespace: 'docs' } })
    await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: { content: 'b', namespace: 'faq' } })
    const res = await api.call('GET', `/knowledge/entries?environment_id=${env}&namespace=faq`, { key })
    expect(res.body.data.map((e: { namespace: string }) => e.namespace)).toEqual(['faq'])
  })

  it('deletes an entry by its entry_id, then answers 404 for it', async () => {
    const { key, env } = await setUp()
    const created = await api.call('POST', `/knowledge/text?environment_id=${env}`, { key, body: { ...text, entry_id: 'doc-1' } })
    const deleted = await api.call('DELETE', `/knowledge/entries/doc-1?environment_id=${env}`, { key })
    expect(deleted.status).toBe(200)
    expect(deleted.body.data.id).toBe(created.body.data.id)
    const again = await api.call('DELETE', `/knowledge/entries/doc-1?environment_id=${env}`, { key })
    expect(again.status).toBe(404)
    expect(again.body.error).toEqual({ code: 'not_found', message: 'Entry not found.' })
    expect((await api.call('DELETE', '/knowledge/entries/doc-1', { key })).status).toBe(400)
  })
})

describe("Connic's paths: /projects/{org_id}/knowledge/…", () => {
  it('serve the same routes for the caller’s own organisation', async () => {
    const { t, key, env } = await setUp()
    const base = `/projects/${t.org.id}/knowledge`
    const created = await api.call('POST', `${base}/text?environment_id=${env}`, { key, body: { ...text, entry_id: 'my-custom-id' } })
    expect(created.status).toBe(201)
    const listed = await api.call('GET', `${base}/entries?environment_id=${env}&namespace=docs.api`, { key })
    expect(listed.body.data.map((e: { entry_id: string }) => e.entry_id)).toEqual(['my-custom-id'])
    expect((await api.call('GET', `/knowledge/entries?environment_id=${env}`, { key })).body.data).toHaveLength(1)
    const deleted = await api.call('DELETE', `${base}/entries/my-custom-id?environment_id=${env}`, { key })
    expect(deleted.status).toBe(200)
  })

  it("answer 404 for another organisation's project id, and change nothing", async () => {
    const { t, key, env } = await setUp()
    const other = await createTenant()
    for (const [method, path, body] of [
      ['POST', `/projects/${other.org.id}/knowledge/text?environment_id=${env}`, text],
      ['GET', `/projects/${other.org.id}/knowledge/entries?environment_id=${env}`, undefined],
      ['DELETE', `/projects/${other.org.id}/knowledge/entries/x?environment_id=${env}`, undefined],
    ] as const) {
      const res = await api.call(method, path, { key, body })
      expect(res.status, path).toBe(404)
      expect(res.body.error).toEqual({ code: 'not_found', message: 'Project not found.' })
    }
    expect(await serviceSql()`select id from agentry.knowledge_bases where org_id in (${t.org.id}, ${other.org.id})`).toEqual([])
  })
})
