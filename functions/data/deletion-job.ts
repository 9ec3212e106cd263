// The job that carries out a confirmed deletion (kind `data.delete`, payload { request_id }), on the service
// connection, every statement scoped to the job's organisation. It deletes kind by kind (kinds.ts) in
// batches of `batchSize` rows, one short statement each, so no transaction holds many rows' locks for long
// and other work on the same tables goes on between batches; after each batch it records the counts done
// on the request. A run stops after `defaultSliceMs` and queues the rest as a new job: however large one
// organisation's deletion, it gives its runner slot back to the queue, which serves the least busy
// organisations first, instead of keeping it for as long as the deletion takes.
import type { Sql } from '../_core/db.ts'
import { enqueueJobFor } from '../_core/jobs/queue.ts'
import { type Job, type JobContext, type JobKind, PermanentJobError } from '../_core/jobs/types.ts'
import { type DeletionScope, type DeletionTarget, kindsOf } from './kinds.ts'

export const deleteDataKind = 'data.delete'

/** Rows deleted per statement. */
export const batchSize = 500

/** How long one run deletes before it queues the rest (and lets other organisations' jobs in). */
const defaultSliceMs = 10_000

type StoredRequest = {
  id: string
  scope: DeletionScope
  inbox_id: string | null
  before: Date | null
  status: string
  preview: Record<string, number>
  done: Record<string, number>
}

async function loadRequest(sql: Sql, job: Job): Promise<StoredRequest> {
  const id = job.payload.request_id
  if (typeof id !== 'string') throw new PermanentJobError('The job names no deletion request')
  const [row] = await sql<StoredRequest[]>`
    select id, scope, inbox_id, before, status, preview, done from agentry.data_deletion_requests
    where id = ${id} and org_id = ${job.orgId}`
  if (!row) throw new PermanentJobError('The deletion request is gone')
  return row
}

async function deleteData(job: Job, ctx: JobContext, sliceMs: number): Promise<void> {
  const { sql } = ctx
  const request = await loadRequest(sql, job)
  if (request.status === 'completed' || request.status === 'failed') return
  // Every kind of the preview shows in `done` from the start, at 0 until its first batch.
  await sql`
    update agentry.data_deletion_requests
    set status = 'running', started_at = coalesce(started_at, now()),
      done = (select coalesce(jsonb_object_agg(key, 0), '{}') from jsonb_each(preview)) || done
    where id = ${request.id} and org_id = ${job.orgId}`
  const target: DeletionTarget = { orgId: job.orgId, scope: request.scope, inboxId: request.inbox_id, before: request.before }
  const total = Object.values(request.preview).reduce((a, b) => a + b, 0)
  let doneSoFar = Object.values(request.done).reduce((a, b) => a + b, 0)
  const started = Date.now()
  for (const k of kindsOf(request.scope)) {
    for (;;) {
      ctx.signal.throwIfAborted()
      const [{ n }] = await k.deleteBatch(sql, target, batchSize)
      if (n > 0) {
        await sql`
          update agentry.data_deletion_requests
          set done = done || jsonb_build_object(${k.kind}::text, coalesce((done ->> ${k.kind}::text)::integer, 0) + ${n}::integer)
          where id = ${request.id} and org_id = ${job.orgId}`
        doneSoFar += n
        await ctx.progress(doneSoFar, Math.max(total, doneSoFar))
      }
      if (n < batchSize) break
      if (Date.now() - started >= sliceMs) {
        await enqueueJobFor(sql, job.orgId, deleteDataKind, { request_id: request.id }, { dedupeKey: request.id })
        return
      }
    }
  }
  if (request.scope === 'messages') {
    // Threads that keep some messages count only what is left.
    await sql`
      update agentry.email_threads t
      set message_count = (select count(*) from agentry.email_messages m where m.thread_id = t.id and m.org_id = ${job.orgId})
      where t.org_id = ${job.orgId} and t.inbox_id = ${request.inbox_id}`
  }
  await sql`
    update agentry.data_deletion_requests set status = 'completed', completed_at = now()
    where id = ${request.id} and org_id = ${job.orgId}`
}

/** The job kind, running `sliceMs` at a time (a test may take a run's turn after every full batch). */
export const deleteDataJobWith = ({ sliceMs }: { sliceMs: number }): JobKind => ({
  run: (job, ctx) => deleteData(job, ctx, sliceMs),
  failed: async (job, error, { sql }) => {
    const id = job.payload.request_id
    if (typeof id !== 'string') return
    await sql`
      update agentry.data_deletion_requests set status = 'failed', error = ${error.slice(0, 1000)}, completed_at = now()
      where id = ${id} and org_id = ${job.orgId} and status <> 'completed'`
  },
})

export const deleteDataJob: JobKind = deleteDataJobWith({ sliceMs: defaultSliceMs })
