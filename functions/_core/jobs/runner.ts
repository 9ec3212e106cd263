// Runs jobs: claims due jobs of the kinds it has handlers for, runs each under its lease (renewed while it
// runs), and records how each attempt ended. Any number of runners may share one database (processes, or
// Supabase function invocations): a claimed job is no other runner's until its lease runs out, and a runner
// that lost its lease can record nothing more for that attempt. Not a tenant's work: the service connection.
import { pruneAuditLog } from '../audit-retention.ts'
import { sealAuditLog, sealEveryMs } from '../audit-seal.ts'
import { retryAt } from '../backoff.ts'
import { now } from '../clock.ts'
import type { Sql } from '../db.ts'
import { unrefTimer } from '../timers.ts'
import { foldUsageShards } from '../usage-shards.ts'
import { type ClaimedJob, claimJobs, completeJobs, failJob, jobsChannel, pruneJobs, recordProgress, releaseJob } from './queue.ts'
import { type Job, type JobHandlers, type JobKind, PermanentJobError } from './types.ts'

export interface JobRunOptions {
  handlers: JobHandlers
  /** Jobs running at once in this runner (default 4). Each organisation's plan caps its own across runners. */
  concurrency?: number
  /** How long a claim holds without a sign of life (default 60 s); it is renewed every third of it while the job runs. */
  leaseSeconds?: number
  /** Hears what went wrong without stopping the runner: a claim or an outcome that could not be recorded. */
  onError?: (error: unknown) => void
}

/** The most of a failure's text kept with the job. */
const maxErrorChars = 2000

class RunnerStopped extends Error {
  override name = 'RunnerStopped'
  constructor() {
    super('The job runner stopped before the job finished')
  }
}

class LeaseLost extends Error {
  override name = 'LeaseLost'
  constructor() {
    super("The job's lease was lost: another runner may be running it")
  }
}

function kindOf(handlers: JobHandlers, kind: string): JobKind | undefined {
  const h = handlers[kind]
  return typeof h === 'function' ? { run: h } : h
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error)
  return text.slice(0, maxErrorChars)
}

/**
 * Records successes together: a job that ends while the last batch is being recorded waits for it and goes
 * in the next, so a busy runner spends one statement on many jobs and an idle one records at once.
 */
function completions(sql: Sql) {
  let pending: { job: Job; done: (ours: boolean) => void; fail: (error: unknown) => void }[] = []
  let recording = false
  const record = async () => {
    recording = true
    while (pending.length > 0) {
      const batch = pending
      pending = []
      try {
        const ours = await completeJobs(
          sql,
          batch.map((b) => b.job),
        )
        for (const b of batch) b.done(ours.has(b.job.id))
      } catch (error) {
        for (const b of batch) b.fail(error)
      }
    }
    recording = false
  }
  return (job: Job) =>
    new Promise<boolean>((done, fail) => {
      pending.push({ job, done, fail })
      if (!recording) void record()
    })
}

/** Claims and runs jobs, keeping track of those in flight; shared by the long-running runner and the batch. */
function jobPool(sql: Sql, options: JobRunOptions, onSettled: () => void) {
  const leaseSeconds = options.leaseSeconds ?? 60
  const onError = (error: unknown) => options.onError?.(error)
  const kinds = Object.keys(options.handlers)
  const worker = `runner-${crypto.randomUUID().slice(0, 8)}`
  const inFlight = new Map<string, { stop: () => void; done: Promise<void> }>()
  const complete = completions(sql)

  const tellFailed = async (kind: JobKind | undefined, job: Job, error: string) => {
    try {
      await kind?.failed?.(job, error, { sql })
    } catch (e) {
      onError(e)
    }
  }

  async function run(job: Job, kind: JobKind, controller: AbortController) {
    const { signal } = controller
    const lose = () => controller.abort(new LeaseLost())
    const renewing = setInterval(
      () => {
        recordProgress(sql, job, leaseSeconds).then((ours) => ours || lose(), onError)
      },
      (leaseSeconds * 1000) / 3,
    )
    unrefTimer(renewing)
    const progress = async (done: number, total: number) => {
      signal.throwIfAborted()
      if (!(await recordProgress(sql, job, leaseSeconds, done, total))) {
        lose()
        signal.throwIfAborted()
      }
    }
    try {
      let failure: unknown
      let succeeded = false
      try {
        await kind.run(job, { sql, progress, signal })
        succeeded = true
      } catch (error) {
        failure = error
      }
      // Nothing is recorded for an attempt that is no longer the job's.
      if (signal.reason instanceof LeaseLost) return
      if (succeeded) {
        await complete(job)
      } else if (signal.reason instanceof RunnerStopped) {
        await releaseJob(sql, job)
      } else {
        const permanent = failure instanceof PermanentJobError
        const text = errorText(failure)
        const status = await failJob(sql, job, text, permanent ? null : retryAt(job.attempt, now()))
        if (status === 'failed') await tellFailed(kind, job, text)
      }
    } catch (error) {
      // The outcome could not be recorded: the lease runs out and the job is claimed again.
      onError(error)
    } finally {
      clearInterval(renewing)
    }
  }

  function start(claimed: ClaimedJob) {
    const { dead, lastError, ...job } = claimed
    const kind = kindOf(options.handlers, job.kind)
    if (dead) {
      void tellFailed(kind, job, lastError ?? 'No attempts are left')
      return
    }
    if (!kind) return
    const controller = new AbortController()
    const done = run(job, kind, controller).finally(() => {
      inFlight.delete(job.id)
      onSettled()
    })
    inFlight.set(job.id, { stop: () => controller.abort(new RunnerStopped()), done })
  }

  return {
    inFlight,
    /** Claims up to `limit` jobs and starts them; returns how many were claimed to run. */
    async claim(limit: number): Promise<number> {
      const claimed = await claimJobs(sql, { kinds, limit, leaseSeconds, worker })
      for (const job of claimed) start(job)
      return claimed.filter((j) => !j.dead).length
    },
    /** Aborts every job in flight (they go back to the queue unless they finish anyway) and waits for them. */
    async stopAll() {
      for (const { stop } of inFlight.values()) stop()
      await Promise.all([...inFlight.values()].map((j) => j.done))
    },
  }
}

export interface RunningJobRunner {
  /** Resolves once the runner listens for new jobs and has made its first claim. */
  ready: Promise<void>
  /** Stops claiming, aborts the jobs in flight (given back to the queue unless they finish) and waits for them. */
  stop(): Promise<void>
}

/**
 * Runs jobs until stopped, up to `concurrency` at once: it claims when a job is enqueued (LISTEN on the
 * queue's channel), when one of its jobs ends, and every `pollMs` (default 1 s) besides, so that retries
 * come due and a lost notification only delays. Seals the audit log every second, keeps `retentionDays` (7)
 * of finished jobs, prunes the audit log past its retention, and folds past days' usage sums.
 */
export function startJobRunner(sql: Sql, options: JobRunOptions & { pollMs?: number; retentionDays?: number }): RunningJobRunner {
  const pollMs = options.pollMs ?? 1000
  const concurrency = options.concurrency ?? 4
  // A busy runner claims for a quarter of its slots at a time rather than for each slot as it frees: a
  // claim is a statement under the queue's lock, whatever it takes.
  const claimBatch = Math.max(1, Math.floor(concurrency / 4))
  const onError = (error: unknown) => options.onError?.(error)
  let running = true
  let woken = false
  let wake: () => void = () => {}
  const signal = () => {
    woken = true
    wake()
  }
  const pool = jobPool(sql, options, signal)
  // Hourly, and once at the start: several runners pruning at once only repeat a cheap delete. The log is
  // sealed before it is pruned, so what is kept is chained in the order it was written.
  const prune = () =>
    Promise.all([
      pruneJobs(sql, options.retentionDays ?? 7).catch(onError),
      sealAuditLog(sql)
        .catch(onError)
        .then(() => pruneAuditLog(sql))
        .catch(onError),
      foldUsageShards(sql).catch(onError),
    ])
  void prune()
  const pruning = setInterval(prune, 3600_000)
  unrefTimer(pruning)
  // Runners skip an organisation another one is sealing: several of them seal no entry twice.
  const sealing = setInterval(() => void sealAuditLog(sql).catch(onError), sealEveryMs)
  unrefTimer(sealing)
  const listening = sql.listen(jobsChannel, signal)
  let claimedOnce: () => void = () => {}
  const ready = new Promise<void>((resolve) => {
    claimedOnce = resolve
  })
  const loop = (async () => {
    await listening.catch(onError)
    while (running) {
      woken = false
      let more = false
      const free = concurrency - pool.inFlight.size
      if (free >= claimBatch || (free > 0 && pool.inFlight.size === 0)) {
        try {
          more = (await pool.claim(free)) === free
        } catch (error) {
          onError(error)
        }
      }
      claimedOnce()
      if (!running) break
      if ((more && pool.inFlight.size < concurrency) || woken) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      wake = () => {}
    }
  })().finally(() => claimedOnce())
  return {
    ready,
    async stop() {
      running = false
      clearInterval(pruning)
      clearInterval(sealing)
      wake()
      await loop
      await pool.stopAll()
      await listening.then((l) => l.unlisten()).catch(() => {})
    },
  }
}

/**
 * Runs due jobs for at most `budgetMs` (real time), for callers that run in short invocations (the Supabase
 * worker function): claims as slots free up until no job is due and none is running, or the budget is
 * spent; jobs still running then are aborted and given back to the queue. Returns how many jobs it claimed.
 */
export async function runJobBatch(sql: Sql, options: JobRunOptions & { budgetMs: number }): Promise<{ claimed: number }> {
  const concurrency = options.concurrency ?? 4
  const deadline = Date.now() + options.budgetMs
  let settled: () => void = () => {}
  const pool = jobPool(sql, options, () => settled())
  let claimed = 0
  let idle = false
  await sealAuditLog(sql).catch((error) => options.onError?.(error))
  try {
    while (Date.now() < deadline) {
      const free = concurrency - pool.inFlight.size
      if (free > 0 && !idle) {
        const n = await pool.claim(free)
        claimed += n
        // Nothing due: claim again only after a job of this batch ends (a retry it schedules is not due yet).
        idle = n < free
      }
      if (pool.inFlight.size === 0) {
        if (idle) break
        continue
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        settled = () => {
          clearTimeout(timer)
          idle = false
          resolve()
        }
      })
      settled = () => {}
    }
  } finally {
    await pool.stopAll()
  }
  return { claimed }
}
