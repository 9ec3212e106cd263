import type { Sql } from '../db.ts'

/** A claimed job as its handler sees it. The payload came from the enqueuer: a tenant's, for most kinds. */
export interface Job {
  id: string
  orgId: string
  kind: string
  payload: Record<string, unknown>
  /** This attempt's number, from 1: the job's fencing token. */
  attempt: number
  maxAttempts: number
}

export interface JobContext {
  /** The service connection: a job is not a tenant request, so a handler scopes its own queries to job.orgId. */
  sql: Sql
  /** Records how far the job got (shown through the resource it works on) and renews its lease. */
  progress(done: number, total: number): Promise<void>
  /** Aborted when the runner stops and when the job's lease is lost to another runner: stop then. */
  signal: AbortSignal
}

/** Does the job's work. Throwing fails this attempt (retried with backoff); PermanentJobError fails the job. */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>

/** A kind of job: its handler, and what to do once a job of it has failed for good (no attempts left). */
export interface JobKind {
  run: JobHandler
  failed?: (job: Job, error: string, ctx: { sql: Sql }) => Promise<void>
}

/** Job kinds by name (`knowledge.index_item`): a runner claims only the kinds it has. */
export type JobHandlers = Record<string, JobHandler | JobKind>

/** A failure that trying again cannot mend (the work's data is invalid or gone): the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}
