// Job runners against the real queue: handlers run, progress is stored, failures are retried on the
// product's clock (stepped, never waited out), a lost lease or a stopping runner aborts the handler, and two
// runners never run one job twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, now, resetClockForTests, setClockForTests } from '../../../functions/_core/clock.ts'
import { claimJobs, completeJob, enqueueJobFor } from '../../../functions/_core/jobs/queue.ts'
import { runJobBatch, startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import { type Job, PermanentJobError } from '../../../functions/_core/jobs/types.ts'
import type { Sql } from '../../../functions/_core/db.ts'
import { createTenant, serviceSql } from '../../harness/tenants.ts'
import { eventually, kindOfThisTest, runnerPool, storedJob } from './helpers.ts'

const pools: Sql[] = []
function pool() {
  const p = runnerPool()
  pools.push(p)
  return p
}

beforeEach(() => setClockForTests(Date.now() + 3_600_000))
afterEach(async () => {
  resetClockForTests()
  await Promise.all(pools.splice(0).map((p) => p.end()))
})

/** A promise and the function that resolves it. */
function gate() {
  let open: () => void = () => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

describe('a batch of jobs', () => {
  it('runs each due job with its payload, stores its progress and marks it succeeded', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const ids = [await enqueueJobFor(serviceSql(), t.org.id, kind, { n: 1 }), await enqueueJobFor(serviceSql(), t.org.id, kind, { n: 2 })]
    const seen: Job[] = []
    const result = await runJobBatch(pool(), {
      budgetMs: 20_000,
      handlers: {
        [kind]: async (job, ctx) => {
          seen.push(job)
          await ctx.progress(job.payload.n as number, 2)
        },
      },
    })
    expect(result).toEqual({ claimed: 2 })
    expect(seen.map((j) => [j.id, j.orgId, j.payload, j.attempt]).sort()).toEqual(
      [
        [ids[0], t.org.id, { n: 1 }, 1],
        [ids[1], t.org.id, { n: 2 }, 1],
      ].sort(),
    )
    expect(await storedJob(ids[0])).toMatchObject({ status: 'succeeded', progress: { done: 1, total: 2 } })
    expect(await storedJob(ids[1])).toMatchObject({ status: 'succeeded', progress: { done: 2, total: 2 } })
  })

  it('tries a failed job again after its backoff, on the stepped clock', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const attempts: number[] = []
    const handlers = {
      [kind]: async (job: Job) => {
        attempts.push(job.attempt)
        if (job.attempt === 1) throw new Error('the provider answered 503')
      },
    }
    const failedAt = now()
    expect(await runJobBatch(pool(), { budgetMs: 20_000, handlers })).toEqual({ claimed: 1 })
    const queued = await storedJob(id)
    expect(queued).toMatchObject({ status: 'queued', attempt: 1, last_error: 'the provider answered 503' })
    // The first retry waits 5 s, spread ±20 %.
    expect(queued.run_at.getTime() - failedAt).toBeGreaterThanOrEqual(4_000)
    expect(queued.run_at.getTime() - failedAt).toBeLessThanOrEqual(6_000 + (now() - failedAt))
    expect(await runJobBatch(pool(), { budgetMs: 20_000, handlers })).toEqual({ claimed: 0 })
    advanceClockForTests(6_500)
    expect(await runJobBatch(pool(), { budgetMs: 20_000, handlers })).toEqual({ claimed: 1 })
    expect(attempts).toEqual([1, 2])
    expect(await storedJob(id)).toMatchObject({ status: 'succeeded', attempt: 2, last_error: null })
  })

  it('fails a job for good at once on a PermanentJobError, and tells its kind', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const told: [string, string][] = []
    await runJobBatch(pool(), {
      budgetMs: 20_000,
      handlers: {
        [kind]: {
          run: async () => {
            throw new PermanentJobError('the item is gone')
          },
          failed: async (job, error) => {
            told.push([job.id, error])
          },
        },
      },
    })
    expect(await storedJob(id)).toMatchObject({ status: 'failed', attempt: 1, last_error: 'the item is gone' })
    expect(told).toEqual([[id, 'the item is gone']])
  })

  it('fails a job for good after its last attempt, and tells its kind once', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {}, { maxAttempts: 3 })
    const told: string[] = []
    const handlers = {
      [kind]: {
        run: async (job: Job) => {
          throw new Error(`attempt ${job.attempt} failed`)
        },
        failed: async (_job: Job, error: string) => {
          told.push(error)
        },
      },
    }
    for (let i = 0; i < 5; i++) {
      await runJobBatch(pool(), { budgetMs: 20_000, handlers })
      advanceClockForTests(3_600_000)
    }
    expect(await storedJob(id)).toMatchObject({ status: 'failed', attempt: 3, last_error: 'attempt 3 failed' })
    expect(told).toEqual(['attempt 3 failed'])
  })

  it("tells a job's kind once when the job's last lease ran out in another runner, without running it again", async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {}, { maxAttempts: 1 })
    await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker: 'crashed' })
    advanceClockForTests(31_000)
    let runs = 0
    const told: string[] = []
    const handlers = {
      [kind]: {
        run: async () => {
          runs++
        },
        failed: async (_job: Job, error: string) => {
          told.push(error)
        },
      },
    }
    await runJobBatch(pool(), { budgetMs: 20_000, handlers })
    await eventually(async () => told.length > 0, 'the kind was told')
    expect(runs).toBe(0)
    expect(told).toEqual([(await storedJob(id)).last_error])
    expect(told[0]).toMatch(/lease ran out.*no attempts are left/)
    expect(await storedJob(id)).toMatchObject({ status: 'failed', attempt: 1 })
  })

  it('aborts a handler whose lease was lost, and records nothing for its attempt', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const started = gate()
    const resume = gate()
    let reason: unknown
    const batch = runJobBatch(pool(), {
      budgetMs: 20_000,
      leaseSeconds: 30,
      handlers: {
        [kind]: async (_job, ctx) => {
          started.open()
          await resume.opened
          try {
            await ctx.progress(1, 1)
          } catch {
            reason = ctx.signal.reason
          }
        },
      },
    })
    await started.opened
    advanceClockForTests(31_000)
    const [fresh] = await claimJobs(serviceSql(), { kinds: [kind], limit: 1, leaseSeconds: 30, worker: 'other' })
    expect(fresh).toMatchObject({ id, attempt: 2 })
    resume.open()
    await batch
    expect((reason as Error)?.message).toMatch(/lease was lost/)
    expect(await storedJob(id)).toMatchObject({ status: 'running', attempt: 2, progress: null })
    expect(await completeJob(serviceSql(), fresh)).toBe(true)
  })
})

describe('a running job runner', () => {
  it('runs a job as soon as it is enqueued', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const ran = gate()
    // Polling only every minute: the job is found through the queue's notification.
    const runner = startJobRunner(pool(), { pollMs: 60_000, handlers: { [kind]: async () => ran.open() } })
    try {
      await runner.ready
      const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
      await ran.opened
      await eventually(async () => (await storedJob(id)).status === 'succeeded', 'the job succeeded')
    } finally {
      await runner.stop()
    }
  })

  it('aborts its jobs when stopped and gives them back to the queue without counting the attempt', async () => {
    const t = await createTenant()
    const kind = kindOfThisTest()
    const id = await enqueueJobFor(serviceSql(), t.org.id, kind, {})
    const started = gate()
    const runner = startJobRunner(pool(), {
      handlers: {
        [kind]: (_job, ctx) =>
          new Promise<void>((_, reject) => {
            started.open()
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))
          }),
      },
    })
    await started.opened
    await runner.stop()
    expect(await storedJob(id)).toMatchObject({ status: 'queued', attempt: 1, max_attempts: 6 })
  })

  it('never runs one job twice beside another runner', async () => {
    const kind = kindOfThisTest()
    const tenants = await Promise.all(Array.from({ length: 5 }, () => createTenant()))
    for (const t of tenants) await serviceSql()`update agentry.organisations set plan = 'enterprise' where id = ${t.org.id}`
    const ids: string[] = []
    for (const t of tenants) for (let i = 0; i < 40; i++) ids.push(await enqueueJobFor(serviceSql(), t.org.id, kind, { i }))
    const runs = new Map<string, number>()
    const byRunner = [0, 0]
    const handler = (n: number) => async (job: Job) => {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1)
      byRunner[n]++
      await new Promise((r) => setImmediate(r))
    }
    const runners = [0, 1].map((n) => startJobRunner(pool(), { concurrency: 8, pollMs: 50, handlers: { [kind]: handler(n) } }))
    try {
      await eventually(
        async () => {
          const [row] = await serviceSql()`select count(*)::int as n from agentry.jobs where kind = ${kind} and status = 'succeeded'`
          return row.n === ids.length
        },
        'every job succeeded',
        60_000,
      )
    } finally {
      await Promise.all(runners.map((r) => r.stop()))
    }
    expect(runs.size).toBe(ids.length)
    expect([...runs.values()].every((n) => n === 1)).toBe(true)
    expect(byRunner[0] + byRunner[1]).toBe(ids.length)
    const [attempts] = await serviceSql()`select max(attempt)::int as most from agentry.jobs where kind = ${kind}`
    expect(attempts.most).toBe(1)
  })
})
