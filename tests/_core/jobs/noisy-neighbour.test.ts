// One organisation's backlog of slow jobs does not hold back another's job: an organisation runs at most
// its plan's number of jobs at once (two on the free plan), so a runner keeps slots for everyone else.
import { expect, it } from 'vitest'
import { withTenant } from '../../../functions/_core/db.ts'
import { enqueueJob } from '../../../functions/_core/jobs/queue.ts'
import { startJobRunner } from '../../../functions/_core/jobs/runner.ts'
import type { Job, JobContext } from '../../../functions/_core/jobs/types.ts'
import { createTenant, serviceSql } from '../../harness/tenants.ts'
import { eventually, kindOfThisTest, runnerPool } from './helpers.ts'

it("starts a quiet organisation's job promptly while another has 500 slow jobs queued", async () => {
  const noisy = await createTenant()
  const quiet = await createTenant()
  const kind = kindOfThisTest()
  await serviceSql()`
    select agentry.enqueue_job_for(${noisy.org.id}, ${kind}, jsonb_build_object('i', i)) from generate_series(1, 500) i`
  const startedNoisy: string[] = []
  let quietStarted: number | undefined
  // The noisy organisation's jobs run until the runner stops.
  const slow = (job: Job, ctx: JobContext) =>
    new Promise<void>((_, reject) => {
      startedNoisy.push(job.id)
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))
    })
  const pool = runnerPool()
  const runner = startJobRunner(pool, {
    concurrency: 4,
    pollMs: 100,
    handlers: {
      [kind]: async (job, ctx) => {
        if (job.orgId === quiet.org.id) quietStarted = Date.now()
        else await slow(job, ctx)
      },
    },
  })
  try {
    await runner.ready
    await eventually(async () => startedNoisy.length === 2, 'the noisy organisation has two jobs running')
    const claims = { role: 'authenticated' as const, sub: null, org_id: quiet.org.id, agent_id: null, key_id: null, scopes: ['*'] }
    // The tenant pool connects first, so that the wait measured is the runner's alone.
    await withTenant(claims, (tx) => tx`select 1`)
    const enqueued = Date.now()
    const id = await withTenant(claims, (tx) => enqueueJob(tx, kind, {}))
    await eventually(async () => quietStarted !== undefined, "the quiet organisation's job started")
    const waited = (quietStarted as number) - enqueued
    // Woken by the queue's notification, it starts in well under a second (about 60 ms here, enqueueing included); the bound leaves room for a busy machine.
    expect(waited).toBeLessThan(3_000)
    await eventually(async () => {
      const [row] = await serviceSql()`select status from agentry.jobs where id = ${id}`
      return row.status === 'succeeded'
    }, "the quiet organisation's job succeeded")
    // However many slots the runner has free, the noisy organisation never has more than two running.
    const [running] = await serviceSql()`
      select count(*)::int as n from agentry.jobs where org_id = ${noisy.org.id} and status = 'running'`
    expect(running.n).toBe(2)
    expect(startedNoisy).toHaveLength(2)
  } finally {
    await runner.stop()
    await pool.end()
    await serviceSql()`delete from agentry.jobs where kind = ${kind}`
  }
})
