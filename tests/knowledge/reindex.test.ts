import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningJobRunner, runJobBatch, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { requeueInRequestLimit } from '../../functions/knowledge/base-queries.ts'
import { reindexBaseJob, reindexBaseKind } from '../../functions/knowledge/reindex.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'

// A database of its own: the runner below claims every organisation's indexing jobs. No embeddings provider
// is configured, so chunks are stored without vectors; how they are cut is what this file is about.
let drop: () => Promise<void>
let api: TestApi
let t: Tenant
let key: string

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  t = await createTenant()
  key = await t.key({ scopes: ['knowledge:read', 'knowledge:write'] })
})

afterAll(async () => {
  await api?.close()
  await drop?.()
})

/** `n` paragraphs of about 27 tokens each. */
const paragraphs = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `Paragraph ${i} is about refunds. Customers ask how long refunds take and who approves them; the answer is here.`,
  ).join('\n\n')

const chunksOf = (itemId: string) =>
  serviceSql()<{ position: number; content_version: number }[]>`
    select position, content_version from agentry.knowledge_chunks where item_id = ${itemId} order by position`

const itemsOf = (baseId: string) =>
  serviceSql()<{ id: string; status: string; content_version: number; chunks_total: number }[]>`
    select id, status, content_version, chunks_total from agentry.knowledge_items where base_id = ${baseId} order by created_at, id`

describe('re-indexing a base whose chunking changed', () => {
  let runner: RunningJobRunner
  let runnerSql: ReturnType<typeof runnerPool>

  beforeAll(() => {
    runnerSql = runnerPool()
    runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) })
  })

  afterAll(async () => {
    await runner?.stop()
    await runnerSql?.end()
  })

  it('chunks every item again with the new size once the runner has run their jobs, one job an item', async () => {
    const created = await api.call('POST', '/bases', { key, body: { name: 'Handbook', chunk_size: 50, chunk_overlap: 10 } })
    const baseId: string = created.body.data.id
    for (const n of [6, 4, 2]) {
      const res = await api.call('POST', `/bases/${baseId}/items`, { key, body: { title: 'Refund policy', content: paragraphs(n) } })
      expect(res.status).toBe(201)
    }
    const indexed = await eventually(async () => {
      const items = await itemsOf(baseId)
      return items.every((i) => i.status === 'ready') && items
    }, 'the items are indexed')
    // With chunks of 50 tokens, one chunk a paragraph.
    expect(indexed.map((i) => [i.content_version, i.chunks_total])).toEqual([
      [1, 6],
      [1, 4],
      [1, 2],
    ])

    const patched = await api.call('PATCH', `/bases/${baseId}`, { key, body: { chunk_size: 400, chunk_overlap: 0 } })
    expect(patched.status).toBe(200)
    expect(patched.body.data).toMatchObject({ chunk_size: 400, chunk_overlap: 0, items_requeued: 3 })

    const reindexed = await eventually(async () => {
      const items = await itemsOf(baseId)
      return items.every((i) => i.status === 'ready' && i.content_version === 2) && items
    }, 'the items are indexed again')
    // Every item now fits one chunk of 400 tokens.
    expect(reindexed.map((i) => [i.content_version, i.chunks_total])).toEqual([
      [2, 1],
      [2, 1],
      [2, 1],
    ])
    for (const item of reindexed) expect(await chunksOf(item.id)).toEqual([{ position: 0, content_version: 2 }])

    const jobs = await serviceSql()<{ item_id: string; version: number; status: string }[]>`
      select payload ->> 'item_id' as item_id, (payload ->> 'content_version')::int as version, status from agentry.jobs
      where kind = 'knowledge.index_item' and payload ->> 'item_id' = any(${reindexed.map((i) => i.id)}::text[])
      order by version, item_id`
    const ids = reindexed.map((i) => i.id).sort()
    expect(jobs).toEqual([
      ...ids.map((id) => ({ item_id: id, version: 1, status: 'succeeded' })),
      ...ids.map((id) => ({ item_id: id, version: 2, status: 'succeeded' })),
    ])
  })
})

/** `n` items of the base, made straight in the database (no indexing jobs), all with one creation time. */
const fillBase = (baseId: string, n: number) =>
  serviceSql()`
    insert into agentry.knowledge_items (org_id, base_id, title, content, text)
    select ${t.org.id}, ${baseId}, 'Item ' || n, 'Refunds take ' || n || ' days.', 'Refunds take ' || n || ' days.'
    from generate_series(1, ${n}::integer) n`

/** The base's queued indexing jobs: how many, and for which content versions. */
async function queuedIndexingOf(baseId: string) {
  const [jobs] = await serviceSql()<{ n: number; versions: number[] | null }[]>`
    select count(*)::int as n, array_agg(distinct (payload ->> 'content_version')::int) as versions from agentry.jobs
    where kind = 'knowledge.index_item' and status = 'queued'
      and (payload ->> 'item_id')::uuid in (select id from agentry.knowledge_items where base_id = ${baseId})`
  return jobs
}

async function timedPatch(baseId: string, body: Record<string, unknown>) {
  const started = performance.now()
  const res = await api.call('PATCH', `/bases/${baseId}`, { key, body })
  return { res, ms: Math.round(performance.now() - started) }
}

// No runner for the items' indexing here: their jobs are counted, not run, and the bases are deleted after.
describe('re-indexing a large base', () => {
  afterAll(async () => {
    await serviceSql()`delete from agentry.knowledge_bases where org_id = ${t.org.id} and name = 'Large'`
    await serviceSql()`delete from agentry.jobs where org_id = ${t.org.id} and status = 'queued'`
  })

  it(`queues a base of ${requeueInRequestLimit.toLocaleString('en')} items again within the request`, async () => {
    const baseId: string = (await api.call('POST', '/bases', { key, body: { name: 'Large' } })).body.data.id
    await fillBase(baseId, requeueInRequestLimit)
    const { res, ms } = await timedPatch(baseId, { chunk_size: 300 })
    console.info(`[reindex] a PATCH queueing ${requeueInRequestLimit} items again itself took ${ms} ms`)
    expect(res.status).toBe(200)
    expect(res.body.data.items_requeued).toBe(requeueInRequestLimit)
    expect(await queuedIndexingOf(baseId)).toEqual({ n: requeueInRequestLimit, versions: [2] })
    // Generous for a shared two-core machine.
    expect(ms).toBeLessThan(15_000)
  })

  it('leaves a larger base to one job, which queues every item again a batch at a time, one indexing job each', async () => {
    const baseId: string = (await api.call('POST', '/bases', { key, body: { name: 'Large' } })).body.data.id
    await fillBase(baseId, 10_000)
    const { res, ms } = await timedPatch(baseId, { chunk_size: 300 })
    console.info(`[reindex] a PATCH of a base of 10000 items took ${ms} ms`)
    expect(res.status).toBe(200)
    expect(res.body.data.items_requeued).toBe(10_000)
    expect(ms).toBeLessThan(5_000)
    // Changed again before the job ran: still one job for the base.
    expect((await timedPatch(baseId, { chunk_overlap: 20 })).res.body.data.items_requeued).toBe(10_000)
    const reindexJobs = await serviceSql()<{ payload: unknown; status: string }[]>`
      select payload, status from agentry.jobs where kind = ${reindexBaseKind} and org_id = ${t.org.id}`
    expect(reindexJobs).toEqual([{ payload: { base_id: baseId }, status: 'queued' }])
    expect(await queuedIndexingOf(baseId)).toEqual({ n: 0, versions: null })

    const started = performance.now()
    const { claimed } = await runJobBatch(serviceSql(), { handlers: { [reindexBaseKind]: reindexBaseJob }, budgetMs: 60_000 })
    console.info(`[reindex] the job queueing 10000 items again took ${Math.round(performance.now() - started)} ms`)
    expect(claimed).toBe(1)
    const [job] = await serviceSql()<{ status: string; progress: unknown }[]>`
      select status, progress from agentry.jobs where kind = ${reindexBaseKind} and org_id = ${t.org.id}`
    expect(job).toEqual({ status: 'succeeded', progress: { done: 10_000, total: 10_000 } })
    expect(await queuedIndexingOf(baseId)).toEqual({ n: 10_000, versions: [2] })
    const [items] = await serviceSql()<{ status: string[]; versions: number[] }[]>`
      select array_agg(distinct status) as status, array_agg(distinct content_version) as versions
      from agentry.knowledge_items where base_id = ${baseId}`
    expect(items).toEqual({ status: ['queued'], versions: [2] })
  }, 120_000)
})
