// The job queue's SQL (sql/20261130000013_jobs.sql). Enqueueing runs in a tenant's transaction or on the
// service connection; everything else is a runner's, on the service connection. Times come from the
// product's clock (databaseNow: null lets Postgres read its own).
import { databaseNow } from '../clock.ts'
import type { Db, Sql, Tx } from '../db.ts'
import type { Job } from './types.ts'

/** Runners LISTEN here; enqueueing notifies it when its transaction commits. */
export const jobsChannel = 'agentry_jobs'

export interface EnqueueOptions {
  /** One queued job per key (and organisation and kind): enqueueing again replaces the queued job's payload. */
  dedupeKey?: string | null
  /** Not before this time (default: now). */
  runAt?: Date | null
}

/**
 * Enqueues a job for the tenant's organisation inside its transaction: the job commits, or rolls back,
 * with the work that needs it. Returns the job's id (the queued job's, when its dedupe key was queued already).
 */
export async function enqueueJob(tx: Tx, kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    select agentry.enqueue_job(${kind}, ${tx.json(payload as never)}, ${options.dedupeKey ?? null}, ${options.runAt ?? null})::text as id`
  return row.id
}

/** Enqueues a job for an organisation from the service's side. */
export async function enqueueJobFor(
  sql: Db,
  orgId: string,
  kind: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions & { maxAttempts?: number } = {},
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    select agentry.enqueue_job_for(${orgId}, ${kind}, ${sql.json(payload as never)}, ${options.dedupeKey ?? null},
      ${options.runAt ?? null}, ${options.maxAttempts ?? null})::text as id`
  return row.id
}

/**
 * A FROM item that lets the statement's transaction commit without waiting for its WAL to reach the disk
 * (a flush a commit costs the database CPU in the kernel). For writes a crash may lose: a claim or a
 * success lost is the lease running out and the job run again, as when a runner stops; and any later
 * synchronous commit (the work the job wrote) flushes them with it.
 */
export const unflushed = (sql: Db) => sql`set_config('synchronous_commit', 'off', true) as unflushed`

export interface ClaimedJob extends Job {
  /** The job's lease ran out on its last attempt while it was claimed: it has failed for good, not to be run. */
  dead: boolean
  lastError: string | null
}

export interface ClaimOptions {
  kinds: string[]
  limit: number
  leaseSeconds: number
  /** Who holds the lease, for the record. */
  worker: string
}

/** Claims due jobs of the given kinds, fairly across organisations, each under a lease. */
export async function claimJobs(sql: Sql, o: ClaimOptions): Promise<ClaimedJob[]> {
  if (o.kinds.length === 0 || o.limit <= 0) return []
  const rows = await sql<
    {
      id: string
      org_id: string
      kind: string
      payload: Record<string, unknown>
      attempt: number
      max_attempts: number
      dead: boolean
      last_error: string | null
    }[]
  >`select c.* from ${unflushed(sql)}, agentry.claim_jobs(${o.kinds}, ${o.limit}, ${o.leaseSeconds}, ${o.worker}, ${databaseNow()}) c`
  return rows.map((r) => ({
    id: r.id,
    orgId: r.org_id,
    kind: r.kind,
    payload: r.payload,
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    dead: r.dead,
    lastError: r.last_error,
  }))
}

/** Records progress (or, without `done`, only renews the lease). False: this attempt is no longer the job's. */
export async function recordProgress(sql: Sql, job: Job, leaseSeconds: number, done: number | null = null, total: number | null = null) {
  const [row] = await sql<{ ours: boolean }[]>`
    select agentry.job_progress(${job.id}, ${job.attempt}, ${done}, ${total}, ${leaseSeconds}, ${databaseNow()}) as ours`
  return row.ours
}

/** Marks the attempt succeeded. False: it was no longer the job's running attempt, and nothing changed. */
export async function completeJob(sql: Sql, job: Job): Promise<boolean> {
  const [row] = await sql<{ ours: boolean }[]>`select agentry.complete_job(${job.id}, ${job.attempt}, ${databaseNow()}) as ours`
  return row.ours
}

/** Marks several attempts succeeded in one statement; answers the ids of those still their job's running attempt. */
export async function completeJobs(sql: Sql, jobs: Job[]): Promise<Set<string>> {
  if (jobs.length === 0) return new Set()
  const rows = await sql<{ id: string }[]>`
    select c::text as id
    from ${unflushed(sql)}, agentry.complete_jobs(${jobs.map((j) => j.id)}::uuid[], ${jobs.map((j) => j.attempt)}::int[], ${databaseNow()}) c`
  return new Set(rows.map((r) => r.id))
}

export type FailedStatus = 'queued' | 'failed' | 'cancelled'

/**
 * Marks the attempt failed: queued again at `retryAt`, or failed for good when it is null or no attempts
 * are left. Returns the job's new status, or null when the attempt was no longer the job's.
 */
export async function failJob(sql: Sql, job: Job, error: string, retryAt: Date | null): Promise<FailedStatus | null> {
  const [row] = await sql<{ status: FailedStatus | null }[]>`
    select agentry.fail_job(${job.id}, ${job.attempt}, ${error}, ${retryAt}, ${databaseNow()}) as status`
  return row.status
}

/** Gives an unfinished job back to the queue without counting the attempt (the runner is stopping). */
export async function releaseJob(sql: Sql, job: Job): Promise<void> {
  await sql`select agentry.release_job(${job.id}, ${job.attempt}, ${databaseNow()})`
}

/** Forgets jobs that ended more than `days` ago; returns how many went. */
export async function pruneJobs(sql: Sql, days: number): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select agentry.prune_jobs(${days}, ${databaseNow()}) as n`
  return row.n
}
