// The job that indexes a large base again after its chunking changed (kind `knowledge.reindex_base`, payload
// { base_id }), enqueued by PATCH /bases/{id} when the base holds more items than that request queues itself.
// It queues the base's items again a batch at a time, each batch in its own short transaction, so that no
// transaction holds a large base's items for long; the items' own indexing jobs then chunk them with the
// base's settings as they are when each runs.
import type { Sql } from '../_core/db.ts'
import { type Job, type JobContext, type JobHandler, PermanentJobError } from '../_core/jobs/types.ts'

export const reindexBaseKind = 'knowledge.reindex_base'

/** Items queued again per transaction. */
const batchSize = 2000

export const reindexBaseJob: JobHandler = async (job: Job, ctx: JobContext) => {
  const baseId = job.payload.base_id
  if (typeof baseId !== 'string') throw new PermanentJobError('The job names no knowledge base')
  const total = await countItems(ctx.sql, job.orgId, baseId)
  let done = 0
  let after: string | null = null
  for (;;) {
    ctx.signal.throwIfAborted()
    const [batch]: { requeued: number; last_id: string | null }[] = await ctx.sql`
      select requeued, last_id from agentry.requeue_knowledge_items(${job.orgId}, ${baseId}, ${after}::uuid, ${batchSize})`
    done += batch.requeued
    await ctx.progress(Math.min(done, total), total)
    if (batch.requeued < batchSize || !batch.last_id) return
    after = batch.last_id
  }
}

async function countItems(sql: Sql, orgId: string, baseId: string): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::integer as n from agentry.knowledge_items where base_id = ${baseId} and org_id = ${orgId}`
  return row.n
}
