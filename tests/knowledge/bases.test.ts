import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createBaseRoute } from '../../functions/knowledge/create-base.ts'
import { deleteBaseRoute } from '../../functions/knowledge/delete-base.ts'
import { getBaseRoute } from '../../functions/knowledge/get-base.ts'
import { listBasesRoute } from '../../functions/knowledge/list-bases.ts'
import { updateBaseRoute } from '../../functions/knowledge/update-base.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createBase, createItem, indexingJobsOf } from './fixtures.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const baseOf = (agent: 'agent' | 'otherAgent') => async (t: Tenant) => ({ id: (await createBase(t, { agents: [agent] })).id })

describeSecurity(listBasesRoute, {}, () => api)
describeSecurity(createBaseRoute, { body: { name: 'Handbook' } }, () => api)
describeSecurity(getBaseRoute, { params: baseOf('agent'), otherAgentParams: baseOf('otherAgent') }, () => api)
describeSecurity(
  updateBaseRoute,
  { params: baseOf('agent'), body: { description: 'x' }, otherAgentParams: baseOf('otherAgent') },
  () => api,
)
describeSecurity(deleteBaseRoute, { params: baseOf('agent'), otherAgentParams: baseOf('otherAgent') }, () => api)

describe('knowledge bases', () => {
  it('creates a base with its settings and agents, and gets it back', async () => {
    const t = await createTenant()
    const key = await t.key()
    const created = await api.call('POST', '/bases', {
      key,
      body: { name: 'Handbook', description: 'Policies', chunk_size: 300, chunk_overlap: 30, agent_ids: [t.agent.id] },
    })
    expect(created.status).toBe(201)
    expect(created.body.data).toEqual({
      id: expect.any(String),
      name: 'Handbook',
      description: 'Policies',
      environment_id: null,
      is_default: false,
      embedding_model: null,
      embedding_dimensions: null,
      chunk_size: 300,
      chunk_overlap: 30,
      agent_ids: [t.agent.id],
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    const got = await api.call('GET', `/bases/${created.body.data.id}`, { key })
    expect(got.body.data).toEqual(created.body.data)
  })

  it('defaults chunking to 400 tokens with 50 of overlap', async () => {
    const t = await createTenant()
    const created = await api.call('POST', '/bases', { key: await t.key(), body: { name: 'Plain' } })
    expect(created.body.data).toMatchObject({ chunk_size: 400, chunk_overlap: 50, agent_ids: [] })
  })

  it('lists bases newest first in pages joined by next_cursor', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const name of ['one', 'two', 'three']) expect((await api.call('POST', '/bases', { key, body: { name } })).status).toBe(201)
    const first = await api.call('GET', '/bases?limit=2', { key })
    expect(first.body.data.map((b: { name: string }) => b.name)).toEqual(['three', 'two'])
    expect(first.body.has_more).toBe(true)
    const second = await api.call('GET', `/bases?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`, { key })
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(second.body.data.map((b: { name: string }) => b.name)).toEqual(['one'])
  })

  it('changes settings and replaces the agent list', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createBase(t, { agents: ['agent'] })
    const res = await api.call('PATCH', `/bases/${id}`, {
      key,
      body: { name: 'Renamed', chunk_overlap: 0, embedding_model: 'text-embedding-3-small', agent_ids: [t.otherAgent.id] },
    })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      name: 'Renamed',
      chunk_overlap: 0,
      embedding_model: 'text-embedding-3-small',
      agent_ids: [t.otherAgent.id],
    })
  })

  it('deletes a base with its items', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    const item = await createItem(t, base.id)
    const res = await api.call('DELETE', `/bases/${base.id}`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data.id).toBe(base.id)
    expect((await api.call('GET', `/bases/${base.id}`, { key })).status).toBe(404)
    expect(await serviceSql()`select id from agentry.knowledge_items where id = ${item.id}`).toEqual([])
  })

  it('refuses bad fields with 400 naming them', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const [body, field] of [
      [{ name: '' }, 'name'],
      [{ name: 'x', chunk_size: 49 }, 'chunk_size'],
      [{ name: 'x', chunk_size: 2001 }, 'chunk_size'],
      [{ name: 'x', chunk_size: 100, chunk_overlap: 100 }, 'chunk_overlap'],
      [{ name: 'x', chunk_overlap: 400 }, 'chunk_overlap'],
      [{ name: 'x', agent_ids: ['not-a-uuid'] }, 'agent_ids.0'],
      [{ name: 'x', agent_ids: [t.agent.id, t.agent.id] }, 'agent_ids'],
      [{ name: 'x', embedding_dimensions: 0 }, 'embedding_dimensions'],
      [{ name: 'x', colour: 'red' }, '(body)'],
    ] as const) {
      const res = await api.call('POST', '/bases', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(field)
    }
    const { id } = await createBase(t)
    const res = await api.call('PATCH', `/bases/${id}`, { key, body: { chunk_size: 50 } })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toBe('Invalid request: chunk_overlap: Must be less than chunk_size (50).')
    expect((await api.call('GET', '/bases/not-a-uuid', { key })).status).toBe(400)
  })

  it('answers 404 for an agent id the organisation does not have, and creates nothing', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', '/bases', { key, body: { name: 'x', agent_ids: [other.agent.id] } })
    expect(res.status).toBe(404)
    expect(res.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
    expect((await api.call('GET', '/bases', { key })).body.data).toEqual([])
  })

  it('fixes the embedding model and dimensions once the base has chunks (409), and lets other settings change', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    expect((await api.call('PATCH', `/bases/${base.id}`, { key, body: { embedding_model: 'm1', embedding_dimensions: 384 } })).status).toBe(
      200,
    )
    const item = await createItem(t, base.id)
    await serviceSql()`
      insert into agentry.knowledge_chunks (org_id, base_id, item_id, position, text, content_version)
      values (${t.org.id}, ${base.id}, ${item.id}, 0, 'Refunds take five days.', 1)`
    for (const body of [{ embedding_model: 'm2' }, { embedding_dimensions: 768 }, { embedding_model: null }]) {
      const res = await api.call('PATCH', `/bases/${base.id}`, { key, body })
      expect(res.status, JSON.stringify(body)).toBe(409)
      expect(res.body.error.code).toBe('conflict')
      expect(res.body.error.message).toMatch(/^The embedding model and dimensions are fixed once the base has chunks/)
    }
    const same = await api.call('PATCH', `/bases/${base.id}`, {
      key,
      body: { embedding_model: 'm1', embedding_dimensions: 384, name: 'Kept' },
    })
    expect(same.status).toBe(200)
    expect(same.body.data).toMatchObject({ name: 'Kept', embedding_model: 'm1', embedding_dimensions: 384 })
  })
})

/** The item as its indexing sees it. */
const stateOf = async (itemId: string) => {
  const [item] = await serviceSql()<
    { status: string; content_version: number; chunks_total: number; chunks_done: number; error: string | null }[]
  >`
    select status, content_version, chunks_total, chunks_done, error from agentry.knowledge_items where id = ${itemId}`
  return item
}

describe('changing a base’s chunking', () => {
  it('queues every item of the base again, each with one job for its new version, in the same request', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    const [ready, failed, queued] = [await createItem(t, base.id), await createItem(t, base.id), await createItem(t, base.id)]
    await serviceSql()`
      update agentry.knowledge_items set status = 'ready', chunks_total = 3, chunks_done = 3, indexed_at = now() where id = ${ready.id}`
    await serviceSql()`
      update agentry.knowledge_items set status = 'failed', chunks_total = 3, chunks_done = 1, error = 'The provider refused it'
      where id = ${failed.id}`
    // Already waiting for its indexing: it keeps one job, now for the new version.
    await serviceSql()`
      select agentry.enqueue_job_for(${t.org.id}, 'knowledge.index_item', ${serviceSql().json({ item_id: queued.id, content_version: 1 })}, ${queued.id})`
    const elsewhere = await createItem(t, (await createBase(t, { name: 'Other' })).id)

    const res = await api.call('PATCH', `/bases/${base.id}`, { key, body: { chunk_size: 300 } })

    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ chunk_size: 300, chunk_overlap: 50, items_requeued: 3 })
    for (const item of [ready, failed, queued]) {
      expect(await stateOf(item.id)).toEqual({ status: 'queued', content_version: 2, chunks_total: 0, chunks_done: 0, error: null })
      expect(await indexingJobsOf(item.id)).toEqual([
        { kind: 'knowledge.index_item', payload: { item_id: item.id, content_version: 2 }, status: 'queued', dedupe_key: item.id },
      ])
    }
    expect(await stateOf(elsewhere.id)).toMatchObject({ status: 'queued', content_version: 1 })
    expect(await indexingJobsOf(elsewhere.id)).toEqual([])
  })

  it('queues them again when only the overlap changes, and again at each later change, still one job an item', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    const item = await createItem(t, base.id)
    expect((await api.call('PATCH', `/bases/${base.id}`, { key, body: { chunk_overlap: 20 } })).body.data.items_requeued).toBe(1)
    expect(
      (await api.call('PATCH', `/bases/${base.id}`, { key, body: { chunk_size: 200, chunk_overlap: 30 } })).body.data.items_requeued,
    ).toBe(1)
    expect(await stateOf(item.id)).toMatchObject({ status: 'queued', content_version: 3 })
    expect(await indexingJobsOf(item.id)).toEqual([
      { kind: 'knowledge.index_item', payload: { item_id: item.id, content_version: 3 }, status: 'queued', dedupe_key: item.id },
    ])
  })

  it('queues nothing when the name, description or agents change, or chunking is sent unchanged', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    const item = await createItem(t, base.id)
    for (const body of [
      { name: 'Renamed' },
      { description: 'Policies' },
      { agent_ids: [t.agent.id] },
      { chunk_size: 400, chunk_overlap: 50, name: 'Same chunking' },
    ]) {
      const res = await api.call('PATCH', `/bases/${base.id}`, { key, body })
      expect(res.status, JSON.stringify(body)).toBe(200)
      expect(res.body.data.items_requeued, JSON.stringify(body)).toBe(0)
    }
    expect(await stateOf(item.id)).toMatchObject({ content_version: 1 })
    expect(await indexingJobsOf(item.id)).toEqual([])
  })

  it('queues nothing when the change is refused', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = await createBase(t)
    const item = await createItem(t, base.id)
    const res = await api.call('PATCH', `/bases/${base.id}`, {
      key,
      body: { chunk_size: 60, agent_ids: [(await createTenant()).agent.id] },
    })
    expect(res.status).toBe(404)
    expect((await api.call('GET', `/bases/${base.id}`, { key })).body.data.chunk_size).toBe(400)
    expect(await stateOf(item.id)).toMatchObject({ content_version: 1 })
    expect(await indexingJobsOf(item.id)).toEqual([])
  })

  it('lets an agent key re-index a base linked to its agent', async () => {
    const t = await createTenant()
    const base = await createBase(t, { agents: ['agent'] })
    const item = await createItem(t, base.id)
    const res = await api.call('PATCH', `/bases/${base.id}`, { key: await t.key({ agent: 'agent' }), body: { chunk_size: 100 } })
    expect(res.body.data).toMatchObject({ chunk_size: 100, items_requeued: 1 })
    expect(await indexingJobsOf(item.id)).toHaveLength(1)
  })
})

describe('knowledge bases seen by an agent key', () => {
  it('shows only the bases linked to its agent, with only its own link', async () => {
    const t = await createTenant()
    const mine = await createBase(t, { name: 'Mine', agents: ['agent', 'otherAgent'] })
    await createBase(t, { name: 'Theirs', agents: ['otherAgent'] })
    await createBase(t, { name: 'Nobody’s' })
    const agentKey = await t.key({ agent: 'agent' })
    const listed = await api.call('GET', '/bases', { key: agentKey })
    expect(listed.body.data.map((b: { id: string; agent_ids: string[] }) => [b.id, b.agent_ids])).toEqual([[mine.id, [t.agent.id]]])
    const all = await api.call('GET', '/bases', { key: await t.key() })
    expect(all.body.data.map((b: { name: string }) => b.name)).toEqual(['Nobody’s', 'Theirs', 'Mine'])
  })

  it('may change a linked base’s settings, but not create or delete bases or change their agents', async () => {
    const t = await createTenant()
    const base = await createBase(t, { agents: ['agent'] })
    const agentKey = await t.key({ agent: 'agent' })
    const renamed = await api.call('PATCH', `/bases/${base.id}`, { key: agentKey, body: { name: 'Renamed' } })
    expect(renamed.body.data).toMatchObject({ name: 'Renamed' })
    const relinked = await api.call('PATCH', `/bases/${base.id}`, { key: agentKey, body: { agent_ids: [] } })
    expect(relinked.status).toBe(403)
    expect(relinked.body.error).toEqual({
      code: 'insufficient_scope',
      message: "An agent key cannot change a base's agents; use an organisation token.",
    })
    const created = await api.call('POST', '/bases', { key: agentKey, body: { name: 'Another' } })
    expect(created.status).toBe(403)
    expect(created.body.error.code).toBe('insufficient_scope')
    expect((await api.call('DELETE', `/bases/${base.id}`, { key: agentKey })).status).toBe(404)
    expect((await api.call('GET', `/bases/${base.id}`, { key: await t.key() })).body.data).toMatchObject({
      name: 'Renamed',
      agent_ids: [t.agent.id],
    })
  })
})
