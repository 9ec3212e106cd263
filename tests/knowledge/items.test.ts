import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createItemRoute } from '../../functions/knowledge/create-item.ts'
import { deleteItemRoute } from '../../functions/knowledge/delete-item.ts'
import { getItemRoute } from '../../functions/knowledge/get-item.ts'
import { listItemsRoute } from '../../functions/knowledge/list-items.ts'
import { updateItemRoute } from '../../functions/knowledge/update-item.ts'
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
const itemOf = (agent: 'agent' | 'otherAgent') => async (t: Tenant) => {
  const base = await createBase(t, { agents: [agent] })
  return { id: base.id, itemId: (await createItem(t, base.id)).id }
}

describeSecurity(listItemsRoute, { params: baseOf('agent'), otherAgentParams: baseOf('otherAgent') }, () => api)
describeSecurity(
  createItemRoute,
  { params: baseOf('agent'), body: { content: 'Refunds take five days.' }, otherAgentParams: baseOf('otherAgent') },
  () => api,
)
describeSecurity(getItemRoute, { params: itemOf('agent'), otherAgentParams: itemOf('otherAgent') }, () => api)
describeSecurity(updateItemRoute, { params: itemOf('agent'), body: { title: 'x' }, otherAgentParams: itemOf('otherAgent') }, () => api)
describeSecurity(deleteItemRoute, { params: itemOf('agent'), otherAgentParams: itemOf('otherAgent') }, () => api)

async function setUp() {
  const t = await createTenant()
  return { t, key: await t.key(), base: await createBase(t) }
}

describe('knowledge items', () => {
  it('adds an item queued for indexing, and enqueues exactly one indexing job for it', async () => {
    const { key, base } = await setUp()
    const res = await api.call('POST', `/bases/${base.id}/items`, {
      key,
      body: {
        title: 'Refunds',
        content: '# Refunds\n\nRefunds take **five** days.',
        content_type: 'markdown',
        metadata: { lang: 'en' },
        namespace: 'policies',
        entry_id: 'refunds',
      },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toEqual({
      id: expect.any(String),
      base_id: base.id,
      title: 'Refunds',
      content_type: 'markdown',
      content: '# Refunds\n\nRefunds take **five** days.',
      text: 'Refunds\n\nRefunds take five days.',
      metadata: { lang: 'en' },
      namespace: 'policies',
      entry_id: 'refunds',
      status: 'queued',
      chunks_total: 0,
      chunks_done: 0,
      error: null,
      content_version: 1,
      indexed_at: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect(await indexingJobsOf(res.body.data.id)).toEqual([
      {
        kind: 'knowledge.index_item',
        payload: { item_id: res.body.data.id, content_version: 1 },
        status: 'queued',
        dedupe_key: res.body.data.id,
      },
    ])
    const got = await api.call('GET', `/bases/${base.id}/items/${res.body.data.id}`, { key })
    expect(got.body.data).toEqual(res.body.data)
  })

  it('converts HTML to plain text', async () => {
    const { key, base } = await setUp()
    const res = await api.call('POST', `/bases/${base.id}/items`, {
      key,
      body: {
        content: '<h1>Refunds</h1><p>Take&nbsp;5 days.<script>x()</script></p><ul><li>Card</li><li>Bank</li></ul>',
        content_type: 'html',
      },
    })
    expect(res.body.data.text).toBe('Refunds\n\nTake 5 days.\n\n- Card\n\n- Bank')
  })

  it('queues the item again with a new version when its content changes, keeping one queued job with the newest version', async () => {
    const { key, base } = await setUp()
    const created = await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'First text.' } })
    const path = `/bases/${base.id}/items/${created.body.data.id}`
    await serviceSql()`update agentry.knowledge_items set status = 'ready', chunks_total = 1, chunks_done = 1 where id = ${created.body.data.id}`
    const changed = await api.call('PATCH', path, { key, body: { content: '<p>Second text.</p>', content_type: 'html' } })
    expect(changed.status).toBe(200)
    expect(changed.body.data).toMatchObject({ status: 'queued', content_version: 2, chunks_total: 0, chunks_done: 0, text: 'Second text.' })
    expect(await indexingJobsOf(created.body.data.id)).toEqual([
      {
        kind: 'knowledge.index_item',
        payload: { item_id: created.body.data.id, content_version: 2 },
        status: 'queued',
        dedupe_key: created.body.data.id,
      },
    ])
  })

  it('changes entry_id alone without indexing again', async () => {
    const { key, base } = await setUp()
    const created = await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'Text.' } })
    const id = created.body.data.id
    await serviceSql()`update agentry.jobs set status = 'succeeded' where payload ->> 'item_id' = ${id}`
    await serviceSql()`update agentry.knowledge_items set status = 'ready' where id = ${id}`
    const res = await api.call('PATCH', `/bases/${base.id}/items/${id}`, { key, body: { entry_id: 'e-1' } })
    expect(res.body.data).toMatchObject({ entry_id: 'e-1', status: 'ready', content_version: 1 })
    expect((await indexingJobsOf(id)).map((j) => j.status)).toEqual(['succeeded'])
  })

  it('refuses a second item with the same entry_id in a base with 409, and allows it in another base', async () => {
    const { t, key, base } = await setUp()
    expect((await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'a', entry_id: 'faq' } })).status).toBe(201)
    const twice = await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'b', entry_id: 'faq' } })
    expect(twice.status).toBe(409)
    expect(twice.body.error).toEqual({ code: 'conflict', message: 'An item with entry_id "faq" already exists in this knowledge base.' })
    const other = await createBase(t)
    expect((await api.call('POST', `/bases/${other.id}/items`, { key, body: { content: 'b', entry_id: 'faq' } })).status).toBe(201)
    const second = await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'c' } })
    const renamed = await api.call('PATCH', `/bases/${base.id}/items/${second.body.data.id}`, { key, body: { entry_id: 'faq' } })
    expect(renamed.status).toBe(409)
    expect(await serviceSql()`select count(*)::int as n from agentry.jobs where org_id = ${t.org.id}`).toEqual([{ n: 3 }])
  })

  it('lists items newest first without content, filtered by namespace and status, in pages', async () => {
    const { key, base } = await setUp()
    for (const [content, namespace] of [
      ['a', 'docs'],
      ['b', 'faq'],
      ['c', 'docs'],
    ]) {
      await api.call('POST', `/bases/${base.id}/items`, { key, body: { content, namespace } })
    }
    const docs = await api.call('GET', `/bases/${base.id}/items?namespace=docs&limit=1`, { key })
    expect(docs.body.data).toHaveLength(1)
    expect(docs.body.data[0]).not.toHaveProperty('content')
    expect(docs.body.data[0]).not.toHaveProperty('text')
    expect(docs.body.has_more).toBe(true)
    const rest = await api.call(
      'GET',
      `/bases/${base.id}/items?namespace=docs&limit=1&cursor=${encodeURIComponent(docs.body.next_cursor)}`,
      { key },
    )
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(new Set([docs.body.data[0].id, rest.body.data[0].id]).size).toBe(2)
    expect((await api.call('GET', `/bases/${base.id}/items?status=ready`, { key })).body.data).toEqual([])
    expect((await api.call('GET', `/bases/${base.id}/items?status=queued`, { key })).body.data).toHaveLength(3)
  })

  it('deletes an item with its chunks', async () => {
    const { t, key, base } = await setUp()
    const item = await createItem(t, base.id)
    await serviceSql()`
      insert into agentry.knowledge_chunks (org_id, base_id, item_id, position, text, content_version)
      values (${t.org.id}, ${base.id}, ${item.id}, 0, 'Refunds take five days.', 1)`
    const res = await api.call('DELETE', `/bases/${base.id}/items/${item.id}`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data.id).toBe(item.id)
    expect(await serviceSql()`select id from agentry.knowledge_chunks where item_id = ${item.id}`).toEqual([])
    expect((await api.call('GET', `/bases/${base.id}/items/${item.id}`, { key })).status).toBe(404)
  })

  it('answers 404 for an item addressed through another base of the organisation', async () => {
    const { t, key, base } = await setUp()
    const item = await createItem(t, base.id)
    const other = await createBase(t)
    const res = await api.call('GET', `/bases/${other.id}/items/${item.id}`, { key })
    expect(res.status).toBe(404)
    expect(res.body.error).toEqual({ code: 'not_found', message: 'Item not found.' })
    expect((await api.call('PATCH', `/bases/${other.id}/items/${item.id}`, { key, body: { title: 'x' } })).status).toBe(404)
    expect((await api.call('DELETE', `/bases/${other.id}/items/${item.id}`, { key })).status).toBe(404)
  })

  it('refuses bad fields with 400 naming them, and enqueues nothing', async () => {
    const { t, key, base } = await setUp()
    for (const [body, field] of [
      [{}, 'content'],
      [{ content: '' }, 'content'],
      [{ content: 'x', content_type: 'pdf' }, 'content_type'],
      [{ content: 'x', metadata: [] }, 'metadata'],
      [{ content: 'x', namespace: '' }, 'namespace'],
      [{ content: 'x', entry_id: 'e'.repeat(201) }, 'entry_id'],
      [{ content: 'x', title: 't'.repeat(501) }, 'title'],
      [{ content: 'x', status: 'ready' }, '(body)'],
    ] as const) {
      const res = await api.call('POST', `/bases/${base.id}/items`, { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.fields.map((f: { field: string }) => f.field)).toContain(field)
    }
    const nul = await api.call('POST', `/bases/${base.id}/items`, { key, body: { content: 'a\u0000b' } })
    expect(nul.status).toBe(400)
    expect(nul.body.error.code).toBe('validation_failed')
    expect(await serviceSql()`select id from agentry.jobs where org_id = ${t.org.id}`).toEqual([])
  })
})

describe('knowledge items seen by an agent key', () => {
  it('reads and writes the items of bases linked to its agent only', async () => {
    const t = await createTenant()
    const mine = await createBase(t, { agents: ['agent'] })
    const theirs = await createBase(t, { agents: ['otherAgent'] })
    const agentKey = await t.key({ agent: 'agent' })
    const created = await api.call('POST', `/bases/${mine.id}/items`, { key: agentKey, body: { content: 'Mine.' } })
    expect(created.status).toBe(201)
    expect(created.body.data.status).toBe('queued')
    expect((await indexingJobsOf(created.body.data.id)).length).toBe(1)
    const refused = await api.call('POST', `/bases/${theirs.id}/items`, { key: agentKey, body: { content: 'Theirs.' } })
    expect(refused.status).toBe(404)
    expect(refused.body.error).toEqual({ code: 'not_found', message: 'Knowledge base not found.' })
    expect(await serviceSql()`select id from agentry.knowledge_items where base_id = ${theirs.id}`).toEqual([])
  })
})
