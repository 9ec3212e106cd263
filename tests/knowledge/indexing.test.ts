import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests } from '../../functions/_core/clock.ts'
import { vectorFromBytes } from '../../functions/_core/embeddings/vectors.ts'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { indexItemJob } from '../../functions/knowledge/indexing.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { type FakeEmbeddings, startFakeEmbeddings } from '../harness/fake-embeddings.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'

// The runner claims every organisation's indexing jobs: this file has a database of its own, so it never
// takes another file's.
let drop: () => Promise<void>
let api: TestApi
let fake: FakeEmbeddings
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>
let t: Tenant
let key: string

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  fake = await startFakeEmbeddings()
  api = await startApi()
  t = await createTenant()
  key = await t.key({ scopes: ['knowledge:read', 'knowledge:write'] })
  // An endpoint taking the knowledge events, so that they are written (events nobody listens to are not).
  await serviceSql()`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${t.org.id}, 'https://hooks.example.com/knowledge', ${['knowledge.item.*']}, 'whsec_test')`
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) })
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
  await fake?.close()
  await drop?.()
})

beforeEach(() => {
  process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
  process.env.EMBEDDINGS_MODEL = 'text-embedding-3-small'
  process.env.EMBEDDINGS_API_KEY = 'sk-embeddings'
  fake.failNext(0)
  fake.delayMs = 0
  fake.requests.length = 0
})

afterEach(() => {
  delete process.env.EMBEDDINGS_BASE_URL
  delete process.env.EMBEDDINGS_MODEL
  delete process.env.EMBEDDINGS_API_KEY
  resetClockForTests()
})

/** `n` paragraphs of about 38 tokens each: with chunks of 50 tokens, one chunk a paragraph. */
const paragraphs = (n: number, topic = 'refunds') =>
  Array.from(
    { length: n },
    (_, i) => `Paragraph ${i} is about ${topic}. Customers ask how long ${topic} take and who approves them; the answer is here.`,
  ).join('\n\n')

async function createBase(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.call('POST', '/bases', { key, body: { name: 'Handbook', chunk_size: 50, chunk_overlap: 10, ...body } })
  expect(res.status).toBe(201)
  return res.body.data.id
}

async function createItem(baseId: string, content: string): Promise<{ id: string; status: string }> {
  const res = await api.call('POST', `/bases/${baseId}/items`, { key, body: { title: 'Refund policy', content } })
  expect(res.status).toBe(201)
  return res.body.data
}

const getItem = async (baseId: string, itemId: string) => (await api.call('GET', `/bases/${baseId}/items/${itemId}`, { key })).body.data

const itemReaches = (baseId: string, itemId: string, status: string) =>
  eventually(async () => {
    const item = await getItem(baseId, itemId)
    return item.status === status && item
  }, `the item is ${status}`)

const chunksOf = (itemId: string) =>
  serviceSql()<{ position: number; text: string; token_count: number; embedding: Uint8Array | null; embedding_model: string | null }[]>`
    select position, text, token_count, embedding, embedding_model from agentry.knowledge_chunks where item_id = ${itemId} order by position`

/** Waits until the job has recorded its attempt `n` as failed and is queued again for later. */
const attemptHasFailed = (itemId: string, n: number) =>
  eventually(async () => {
    const [job] = await serviceSql()<{ status: string; attempt: number }[]>`
      select status, attempt from agentry.jobs where payload ->> 'item_id' = ${itemId}`
    return job?.status === 'queued' && job.attempt === n
  }, `attempt ${n} has failed`)

const eventsAbout = (itemId: string) =>
  serviceSql()<{ type: string; data: any }[]>`
    select type, data from agentry.events where data ->> 'item_id' = ${itemId} order by created_at`

describe('indexing a knowledge item', () => {
  it('goes from queued through indexing to ready, with progress visible, every chunk embedded and the usage priced', async () => {
    const baseId = await createBase()
    fake.delayMs = 400
    const created = await createItem(baseId, paragraphs(200))
    expect(created.status).toBe('queued')

    const midway = await eventually(async () => {
      const item = await getItem(baseId, created.id)
      return item.status === 'indexing' && item.chunks_done > 0 && item
    }, 'some chunks are embedded')
    expect(midway.chunks_total).toBe(200)
    expect(midway.chunks_done).toBeLessThan(200) // the first batch of 96 is embedded alone, the rest after it

    const ready = await itemReaches(baseId, created.id, 'ready')
    expect(ready).toMatchObject({ chunks_total: 200, chunks_done: 200, error: null })
    expect(ready.indexed_at).not.toBeNull()

    const chunks = await chunksOf(created.id)
    expect(chunks.map((c) => c.position)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(chunks[7].text).toBe(
      'Paragraph 7 is about refunds. Customers ask how long refunds take and who approves them; the answer is here.',
    )
    expect(chunks[7].token_count).toBe(27)
    for (const chunk of [chunks[0], chunks[7], chunks[199]]) {
      expect(chunk.embedding_model).toBe('text-embedding-3-small')
      expect(Array.from(vectorFromBytes(chunk.embedding!))).toEqual(Array.from(fake.vectorOf(chunk.text)))
    }
    expect(fake.requests.map((r) => r.body.input.length).sort((a, b) => b - a)).toEqual([96, 96, 8])
    expect(fake.requests[0].headers.authorization).toBe('Bearer sk-embeddings')

    const base = (await api.call('GET', `/bases/${baseId}`, { key })).body.data
    expect(base).toMatchObject({ embedding_model: 'text-embedding-3-small', embedding_dimensions: 384 })

    expect(await eventsAbout(created.id)).toEqual([
      {
        type: 'knowledge.item.indexed',
        data: { base_id: baseId, item_id: created.id, content_version: 1, chunks_total: 200, embedding_model: 'text-embedding-3-small' },
      },
    ])

    const usage = await serviceSql()<
      { provider: string; model: string; prompt_tokens: number; completion_tokens: number; cost_usd: string }[]
    >`
      select provider, model, prompt_tokens, completion_tokens, cost_usd::text from agentry.usage_records
      where org_id = ${t.org.id} and provider = 'embeddings' order by prompt_tokens desc`
    // The fake counts a token a word and one an input: 19 words a paragraph.
    expect(usage.map((u) => [u.model, u.prompt_tokens, u.completion_tokens])).toEqual([
      ['text-embedding-3-small', 96 * 20, 0],
      ['text-embedding-3-small', 96 * 20, 0],
      ['text-embedding-3-small', 8 * 20, 0],
    ])
    // text-embedding-3-small: $0.02 a million tokens.
    expect(usage.map((u) => Number(u.cost_usd))).toEqual([0.0000384, 0.0000384, 0.0000032])
  })

  it('rides out the provider failing twice within one attempt', async () => {
    const baseId = await createBase()
    fake.failNext(2, 500)
    const created = await createItem(baseId, paragraphs(3))
    expect(await itemReaches(baseId, created.id, 'ready')).toMatchObject({ chunks_total: 3, chunks_done: 3, error: null })
    expect(fake.requests).toHaveLength(3)
    expect((await chunksOf(created.id)).every((c) => c.embedding !== null)).toBe(true)
  })

  it('queues the item again, saying why, when an attempt fails, and indexes it on the next', async () => {
    const baseId = await createBase()
    fake.failNext(4, 429, 0) // every try of the first attempt
    const created = await createItem(baseId, paragraphs(3))
    const requeued = await eventually(async () => {
      const item = await getItem(baseId, created.id)
      return item.error !== null && item
    }, 'the first attempt has failed')
    expect(requeued).toMatchObject({
      status: 'queued',
      error: 'The embeddings provider failed: status 429: scripted failure 429 (attempt 1 of 5; trying again)',
    })
    await attemptHasFailed(created.id, 1)
    advanceClockForTests(3600_000) // past the retry's time
    expect(await itemReaches(baseId, created.id, 'ready')).toMatchObject({ chunks_done: 3, error: null })
    expect(fake.requests).toHaveLength(5)
  })

  it('fails the item for good after the last attempt, with the reason and a knowledge.item.failed event', async () => {
    const baseId = await createBase()
    fake.failNext(1000, 429, 0)
    const created = await createItem(baseId, paragraphs(2))
    for (let attempt = 1; attempt < 5; attempt++) {
      await attemptHasFailed(created.id, attempt)
      advanceClockForTests(3 * 3600_000) // past the retry's time
    }
    const failed = await itemReaches(baseId, created.id, 'failed')
    expect(failed.error).toBe('The embeddings provider failed: status 429: scripted failure 429')
    expect(fake.requests).toHaveLength(5 * 4)
    expect(await chunksOf(created.id)).toEqual([])
    const [job] = await serviceSql()`select status, attempt from agentry.jobs where payload ->> 'item_id' = ${created.id}`
    expect(job).toEqual({ status: 'failed', attempt: 5 })
    expect(await eventsAbout(created.id)).toEqual([
      {
        type: 'knowledge.item.failed',
        data: {
          base_id: baseId,
          item_id: created.id,
          content_version: 1,
          error: 'The embeddings provider failed: status 429: scripted failure 429',
        },
      },
    ])
  })

  it('refuses, without trying again, an item whose embeddings are of another model than its base holds', async () => {
    const baseId = await createBase({ embedding_model: 'text-embedding-3-large' })
    const created = await createItem(baseId, paragraphs(2))
    const failed = await itemReaches(baseId, created.id, 'failed')
    expect(failed.error).toBe(
      'The knowledge base uses the embeddings model "text-embedding-3-large", but the server embeds with "text-embedding-3-small": ' +
        'their vectors cannot be compared. Configure that model again, or index into a new base.',
    )
    expect(fake.requests).toHaveLength(1)
    expect(await chunksOf(created.id)).toEqual([])
    expect((await eventsAbout(created.id)).map((e) => e.type)).toEqual(['knowledge.item.failed'])
  })

  it('refuses an item whose embeddings have other dimensions than its base holds', async () => {
    const baseId = await createBase({ embedding_dimensions: 256 })
    const created = await createItem(baseId, paragraphs(1))
    expect((await itemReaches(baseId, created.id, 'failed')).error).toBe(
      "The knowledge base holds vectors of 256 dimensions, but the server's embeddings have 384.",
    )
  })

  it('without an embeddings provider, stores chunks without embeddings and the item is still ready', async () => {
    delete process.env.EMBEDDINGS_BASE_URL
    const baseId = await createBase()
    const created = await createItem(baseId, paragraphs(4))
    expect(await itemReaches(baseId, created.id, 'ready')).toMatchObject({ chunks_total: 4, chunks_done: 4 })
    const chunks = await chunksOf(created.id)
    expect(chunks.map((c) => [c.embedding, c.embedding_model])).toEqual([
      [null, null],
      [null, null],
      [null, null],
      [null, null],
    ])
    expect(fake.requests).toHaveLength(0)
    expect((await api.call('GET', `/bases/${baseId}`, { key })).body.data).toMatchObject({
      embedding_model: null,
      embedding_dimensions: null,
    })
    expect((await eventsAbout(created.id))[0].data.embedding_model).toBeNull()
  })

  it('indexes changed content again, replacing the old chunks', async () => {
    const baseId = await createBase()
    const created = await createItem(baseId, paragraphs(3))
    await itemReaches(baseId, created.id, 'ready')
    const changed = await api.call('PATCH', `/bases/${baseId}/items/${created.id}`, { key, body: { content: paragraphs(2, 'shipping') } })
    expect(changed.body.data).toMatchObject({ status: 'queued', content_version: 2 })
    await eventually(async () => (await chunksOf(created.id)).length === 2, 'reindexed')
    expect((await chunksOf(created.id)).map((c) => c.text.includes('shipping'))).toEqual([true, true])
  })

  it('does nothing for a job whose content version is no longer the item’s', async () => {
    const baseId = await createBase()
    const created = await createItem(baseId, 'First version.')
    await itemReaches(baseId, created.id, 'ready')
    await api.call('PATCH', `/bases/${baseId}/items/${created.id}`, { key, body: { content: 'Second version.' } })
    await eventually(async () => (await chunksOf(created.id))[0]?.text === 'Second version.', 'the second version is indexed')
    const before = await getItem(baseId, created.id)
    fake.requests.length = 0

    await indexItemJob().run(
      {
        id: crypto.randomUUID(),
        orgId: t.org.id,
        kind: 'knowledge.index_item',
        payload: { item_id: created.id, content_version: 1 },
        attempt: 1,
        maxAttempts: 5,
      },
      { sql: runnerSql, progress: async () => {}, signal: new AbortController().signal },
    )
    expect(await getItem(baseId, created.id)).toEqual(before)
    expect((await chunksOf(created.id)).map((c) => c.text)).toEqual(['Second version.'])
    expect(fake.requests).toHaveLength(0)
  })

  it('indexes 2,000 chunks at a measured rate', async () => {
    const baseId = await createBase()
    const started = performance.now()
    const created = await createItem(baseId, paragraphs(2000))
    const ready = await eventually(
      async () => {
        const item = await getItem(baseId, created.id)
        return item.status === 'ready' && item
      },
      'the 2,000 chunks are indexed',
      60_000,
    )
    const seconds = (performance.now() - started) / 1000
    expect(ready.chunks_total).toBe(2000)
    console.info(
      `[bench] indexing: ${ready.chunks_total} chunks in ${seconds.toFixed(2)} s = ${Math.round(ready.chunks_total / seconds)} chunks/s`,
    )
    // A floor far under the 500/s target, for a shared machine; the figure itself is what is reported.
    expect(ready.chunks_total / seconds).toBeGreaterThan(100)
  }, 90_000)
})
