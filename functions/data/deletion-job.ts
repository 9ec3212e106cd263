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

// As the sending and receiving paths keep them on a thread.
const snippetChars = 200
const maxParticipants = 200

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
  if (request.scope === 'messages') await summariseKeptThreads(sql, job.orgId, request.inbox_id!)
  await sql`
    update agentry.data_deletion_requests set status = 'completed', completed_at = now()
    where id = ${request.id} and org_id = ${job.orgId}`
}

/**
 * Threads that keep some messages show only what is left: their count, last message (time, direction and
 * snippet, taken as the sending and receiving paths take them), attachments and participants. Threads the
 * deletion emptied are gone already.
 */
async function summariseKeptThreads(sql: Sql, orgId: string, inboxId: string): Promise<void> {
  await sql`
    update agentry.email_threads t set
      message_count = kept.message_count,
      last_message_at = kept.last_message_at,
      last_direction = kept.last_direction,
      snippet = kept.snippet,
      has_attachments = kept.has_attachments,
      participants = kept.participants
    from (
      select t2.id,
        (select count(*) from agentry.email_messages m where m.thread_id = t2.id and m.org_id = ${orgId})::integer as message_count,
        last.created_at as last_message_at,
        last.direction as last_direction,
        left(trim(regexp_replace(coalesce(nullif(last.extracted_text, ''), nullif(last.text, ''),
          regexp_replace(coalesce(last.html, ''), '<[^>]*>', ' ', 'g')), '[[:space:]]+', ' ', 'g')), ${snippetChars}) as snippet,
        exists (select 1 from agentry.email_attachments a join agentry.email_messages m on m.id = a.message_id
          where m.thread_id = t2.id and m.org_id = ${orgId} and a.org_id = ${orgId}) as has_attachments,
        array(select distinct lower(p) from agentry.email_messages m,
            unnest(array[m.from_address] || m.to_addresses || m.cc_addresses) as p
          where m.thread_id = t2.id and m.org_id = ${orgId} and p <> '' order by 1 limit ${maxParticipants}) as participants
      from agentry.email_threads t2
      cross join lateral (
        select m.created_at, m.direction, m.extracted_text, m.text, m.html from agentry.email_messages m
        where m.thread_id = t2.id and m.org_id = ${orgId} order by m.created_at desc, m.id desc limit 1) as last
      where t2.org_id = ${orgId} and t2.inbox_id = ${inboxId}
    ) as kept
    where t.id = kept.id`
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
