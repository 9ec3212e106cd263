// The job queue in the database: enqueueing with the work that needs it, claiming, and recording each
// attempt's outcome only while the attempt is still the job's. The clock is stepped, never waited out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests, setClockForTests } from '../../../functions/_core/clock.ts'
import { withTenant, type TenantClaims } from '../../../functions/_core/db.ts'
import {
  claimJobs,
  completeJob,
  completeJobs,
  enqueueJob,
  enqueueJobFor,
  failJob,
  recordProgress,
} from '../../../functions/_core/jobs/queue.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { kindOfThisTest, storedJob } from './helpers.ts'

const claimsOf = (t: Tenant): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: t.org.id,
  agent_id: null,
  key_id: null,
  scopes: ['*'],
})
const worker = 'queue-test'

// An hour ahead of the system clock: everything enqueued at Postgres's now() is due.
beforeEach(() => setClockForTests(Date.now() + 3_600_000))
afterEach(() => resetClockForTests())

describe('enqueueing a job', () => {
  it('commits with the tenant transaction that enqueues it, for that organisation', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await withTenant(claimsOf(t), (tx) => enqueueJob(tx, kind, { item_id: 'x' }))
    const [row] = await serviceSql()`select org_id, kind, payload, status, attempt from agentry.jobs where id = ${id}`
    expect(row).toEqual({ org_id: t.org.id, kind, payload: { item_id: 'x' }, status: 'queued', attempt: 0 })
  })

  it('rolls back with the tenant transaction that enqueues it', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    await expect(
      withTenant(claimsOf(t), async (tx) => {
        await enqueueJob(tx, kind, {})
        throw new Error('the work failed')
      }),
    ).rejects.toThrow('the work failed')
    expect(await serviceSql()`select id from agentry.jobs where kind = ${kind}`).toEqual([])
  })

  it('is refused without an organisation in the claims, and a tenant cannot read the queue', async () => {
    const t = await createTenant()
    await expect(serviceSql()`select agentry.enqueue_job('test.nobody', '{}'::jsonb)`).rejects.toMatchObject({ code: '42501' })
    await expect(withTenant(claimsOf(t), (tx) => tx`select id from agentry.jobs`)).rejects.toMatchObject({ code: '42501' })
  })

  it('keeps one queued job per dedupe key, and queues a new one while the first runs', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const first = await withTenant(claimsOf(t), (tx) => enqueueJob(tx, kind, { version: 1 }, { dedupeKey: 'item-1' }))
    const again = await withTenant(claimsOf(t), (tx) => enqueueJob(tx, kind, { version: 2 }, { dedupeKey: 'item-1' }))
    expect(again).toBe(first)
    expect((await storedJob(first)).payload).toEqual({ version: 2 })
    const [claimed] = await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })
    expect(claimed).toMatchObject({ id: first, payload: { version: 2 }, attempt: 1 })
    const newer = await withTenant(claimsOf(t), (tx) => enqueueJob(tx, kind, { version: 3 }, { dedupeKey: 'item-1' }))
    expect(newer).not.toBe(first)
    // The newer job waits until the running one has ended.
    expect(await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })).toEqual([])
    expect(await completeJob(serviceSql(), claimed)).toBe(true)
    const [next] = await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })
    expect(next).toMatchObject({ id: newer, payload: { version: 3 } })
  })
})

describe('a claimed job', () => {
  it('is completed together with others in one statement, which answers only the attempts still running', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const ids = [await enqueueJobFor(serviceSql(), t.org.id, kind, { n: 1 }), await enqueueJobFor(serviceSql(), t.org.id, kind, { n: 2 })]
    const claimed = await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })
    expect(claimed.map((j) => j.id).sort()).toEqual([...ids].sort())
    const [first, second] = claimed
    expect(await completeJob(serviceSql(), first)).toBe(true)
    // The first was completed already, and an attempt that is not the job's changes nothing.
    expect(await completeJobs(serviceSql(), [first, second, { ...second, attempt: 7 }])).toEqual(new Set([second.id]))
    expect((await storedJob(second.id)).status).toBe('succeeded')
    expect(await completeJobs(serviceSql(), [])).toEqual(new Set())
  })

  it('is claimed once, completed once, and only its own kinds are claimed', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, { n: 1 })
    expect(await claimJobs(serviceSql(), { kinds: [kindOfThisTest()], limit: 10, leaseSeconds: 30, worker })).toEqual([])
    const claimed = await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })
    expect(claimed).toEqual([{ id, orgId: t.org.id, kind, payload: { n: 1 }, attempt: 1, maxAttempts: 5, dead: false, lastError: null }])
    expect(await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })).toEqual([])
    expect(await completeJob(serviceSql(), claimed[0])).toBe(true)
    expect(await completeJob(serviceSql(), claimed[0])).toBe(false)
    expect(await storedJob(id)).toMatchObject({ status: 'succeeded', attempt: 1, last_error: null })
  })

  it('stores its progress', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const [job] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    expect(await recordProgress(serviceSql(), job, 30, 3, 10)).toBe(true)
    expect((await storedJob(id)).progress).toEqual({ done: 3, total: 10 })
  })

  it('is tried again after a failure once its backoff has passed, not before', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const [job] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    const retry = new Date(Date.now() + 3_600_000 + 5_000)
    expect(await failJob(serviceSql(), job, 'the provider answered 503', retry)).toBe('queued')
    expect(await storedJob(id)).toMatchObject({ status: 'queued', attempt: 1, last_error: 'the provider answered 503', run_at: retry })
    advanceClockForTests(4_000)
    expect(await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })).toEqual([])
    advanceClockForTests(2_000)
    const [again] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    expect(again).toMatchObject({ id, attempt: 2, lastError: 'the provider answered 503' })
  })

  it('fails for good after its last attempt', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {}, { maxAttempts: 2 })
    for (const attempt of [1, 2]) {
      const [job] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
      expect(job.attempt).toBe(attempt)
      const outcome = await failJob(serviceSql(), job, `failure ${attempt}`, new Date(Date.now() + 3_600_000))
      expect(outcome).toBe(attempt === 1 ? 'queued' : 'failed')
    }
    expect(await storedJob(id)).toMatchObject({ status: 'failed', attempt: 2, last_error: 'failure 2' })
    advanceClockForTests(86_400_000)
    expect(await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })).toEqual([])
  })
})

describe('a lease that runs out', () => {
  it('lets another runner claim the job, and fences off the first runner', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const [stale] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker: 'first' })
    advanceClockForTests(29_000)
    expect(await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker: 'second' })).toEqual([])
    advanceClockForTests(2_000)
    const [fresh] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker: 'second' })
    expect(fresh).toMatchObject({ id, attempt: 2 })
    // The first runner comes back: nothing it records counts.
    expect(await recordProgress(serviceSql(), stale, 30, 5, 5)).toBe(false)
    expect(await completeJob(serviceSql(), stale)).toBe(false)
    expect(await failJob(serviceSql(), stale, 'late', null)).toBe(null)
    expect(await storedJob(id)).toMatchObject({ status: 'running', attempt: 2, progress: null })
    expect(await completeJob(serviceSql(), fresh)).toBe(true)
    expect((await storedJob(id)).status).toBe('succeeded')
  })

  it('on the last attempt fails the job, and the claim says so', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {}, { maxAttempts: 1 })
    await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    advanceClockForTests(31_000)
    const [dead] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    expect(dead).toMatchObject({ id, dead: true, attempt: 1 })
    expect(await storedJob(id)).toMatchObject({ status: 'failed', attempt: 1 })
    expect((await storedJob(id)).last_error).toMatch(/lease ran out.*no attempts are left/)
  })
})

describe('claiming across organisations', () => {
  it("gives each organisation at most its plan's running jobs, and a quiet organisation's job goes first", async () => {
    const busy = await createTenant()
    const quiet = await createTenant()
    const kind = kindOfThisTest()
    for (let i = 0; i < 10; i++) await enqueueJobFor(serviceSql(), busy.org.id, kind, { i }, { runAt: new Date(Date.now() - 60_000) })
    const first = await claimJobs(serviceSql(), { kinds: [kind], limit: 10, leaseSeconds: 30, worker })
    // The free plan runs two at once.
    expect(first.map((j) => j.orgId)).toEqual([busy.org.id, busy.org.id])
    await enqueueJobFor(serviceSql(), quiet.org.id, kind, {})
    await completeJob(serviceSql(), first[0])
    const next = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker })
    expect(next.map((j) => j.orgId)).toEqual([quiet.org.id])
  })
})
