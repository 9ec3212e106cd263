// The job that indexes a knowledge item (kind `knowledge.index_item`, payload { item_id, content_version }),
// enqueued with the item's every content change. It chunks the item's text with its base's settings, embeds
// the chunks in batches (the item's chunks_done and the job's progress move after each), then replaces the
// item's chunks and marks it ready in one transaction. A job for content that has since changed does
// nothing: the job for the newer version follows it. Without an embeddings provider the chunks are stored
// without vectors and found by keyword alone. The first embedded item fixes its base's model and
// dimensions; an item embedded with others afterwards fails, since its vectors could not be compared.
import { embeddingsFromEnv } from '../_core/embeddings/provider.ts'
import { EmbeddingsError } from '../_core/embeddings/openai-compatible.ts'
import type { EmbeddingsProvider } from '../_core/embeddings/types.ts'
import { recordEmbeddingsUsage } from '../_core/embeddings/usage.ts'
import { readEnv } from '../_core/env.ts'
import { type Job, type JobContext, type JobKind, PermanentJobError } from '../_core/jobs/types.ts'
import { chunkText } from './chunking.ts'
import {
  type ChunkRow,
  emitItemEvent,
  type ItemToIndex,
  failItem,
  findItemToIndex,
  fixBaseEmbeddings,
  recordChunksDone,
  replaceChunks,
  requeueItem,
  startIndexing,
} from './indexing-queries.ts'

export const indexItemKind = 'knowledge.index_item'

/** Chunks embedded per provider call, and so how often progress moves. */
const batchSize = 96
/** Provider calls at once for one item, after the first. */
const batchesInFlight = 4

interface IndexItemPayload {
  item_id: string
  content_version: number
}

function payloadOf(job: Job): IndexItemPayload {
  const { item_id, content_version } = job.payload
  if (typeof item_id !== 'string' || typeof content_version !== 'number') {
    throw new PermanentJobError('The job names no item and content version')
  }
  return { item_id, content_version }
}

/**
 * The job kind, with the embeddings provider the environment configures (or, for a test, the one given):
 * looked up at each run, so a changed configuration applies to the next item.
 */
export function indexItemJob(embeddings: () => EmbeddingsProvider | null = () => embeddingsFromEnv(readEnv)): JobKind {
  return {
    run: (job, ctx) => indexItem(job, ctx, embeddings()),
    async failed(job, error, { sql }) {
      const { item_id, content_version } = payloadOf(job)
      const item = await findItemToIndex(sql, job.orgId, item_id)
      if (!item) return
      // The status and its event commit together: whoever sees the one sees the other.
      await sql.begin(async (tx) => {
        if (!(await failItem(tx, job.orgId, item_id, content_version, error))) return
        await emitItemEvent(tx, job.orgId, 'knowledge.item.failed', { base_id: item.base_id, item_id, content_version, error })
      })
    },
  }
}

async function indexItem(job: Job, ctx: JobContext, provider: EmbeddingsProvider | null): Promise<void> {
  const { item_id, content_version } = payloadOf(job)
  const { sql, signal } = ctx
  const item = await findItemToIndex(sql, job.orgId, item_id)
  if (!item || item.content_version !== content_version) return
  const chunks = chunkText(item.text, { chunkSize: item.chunk_size, chunkOverlap: item.chunk_overlap })
  if (!(await startIndexing(sql, job.orgId, item_id, content_version, chunks.length))) return
  await ctx.progress(0, chunks.length)
  try {
    const rows: ChunkRow[] = chunks.map((c) => ({ text: c.text, tokens: c.tokens, embedding: null, embeddingModel: null }))
    const embedded = provider ? await embedRows(job, ctx, item, provider, rows) : null
    signal.throwIfAborted()
    await sql.begin(async (tx) => {
      if (embedded) {
        const base = await fixBaseEmbeddings(tx, item.base_id, embedded.model, embedded.dimensions)
        refuseOtherEmbeddings(
          { embedding_model: base.embedding_model, embedding_dimensions: base.embedding_dimensions },
          embedded.model,
          embedded.dimensions,
        )
      }
      if (!(await replaceChunks(tx, job.orgId, item, rows))) return // newer content came in meanwhile
      await emitItemEvent(tx, job.orgId, 'knowledge.item.indexed', {
        base_id: item.base_id,
        item_id,
        content_version,
        chunks_total: rows.length,
        embedding_model: embedded?.model ?? null,
      })
    })
  } catch (error) {
    throw await failedAttempt(job, ctx, content_version, error)
  }
}

/**
 * Embeds the rows' texts into them: the first batch alone, so that embeddings the base could not hold are
 * refused before more is spent, then the rest `batchesInFlight` at a time. The item's chunks_done and the
 * job's progress move as batches land; one failing stops the others.
 */
async function embedRows(
  job: Job,
  ctx: JobContext,
  item: ItemToIndex,
  provider: EmbeddingsProvider,
  rows: ChunkRow[],
): Promise<{ model: string; dimensions: number } | null> {
  const batches: ChunkRow[][] = []
  for (let from = 0; from < rows.length; from += batchSize) batches.push(rows.slice(from, from + batchSize))
  if (batches.length === 0) return null
  const stopping = new AbortController()
  const signal = AbortSignal.any([ctx.signal, stopping.signal])
  let embedded: { model: string; dimensions: number } | null = null
  let done = 0
  // Written one after another, each with the count at its turn: chunks_done never goes back.
  let reporting = Promise.resolve()
  const report = () => {
    reporting = reporting.then(async () => {
      const now = done
      await recordChunksDone(ctx.sql, job.orgId, item.id, item.content_version, now)
      await ctx.progress(now, rows.length)
    })
    return reporting
  }
  const embedBatch = async (batch: ChunkRow[]) => {
    const result = await provider.embed(
      batch.map((row) => row.text),
      signal,
    )
    await recordEmbeddingsUsage(ctx.sql, { orgId: job.orgId, requestedModel: provider.model, embeddings: result })
    const dimensions = result.vectors[0].length
    refuseOtherEmbeddings(item, result.model, dimensions)
    if (embedded && (embedded.model !== result.model || embedded.dimensions !== dimensions)) {
      throw new EmbeddingsError('The embeddings provider failed: it answered one item with vectors of two models or sizes', null)
    }
    embedded ??= { model: result.model, dimensions }
    for (const [i, row] of batch.entries()) {
      row.embedding = result.vectors[i]
      row.embeddingModel = result.model
    }
    done += batch.length
    await report()
  }
  await embedBatch(batches[0])
  let next = 1
  let failure: unknown
  const lane = async () => {
    try {
      while (next < batches.length && failure === undefined) await embedBatch(batches[next++])
    } catch (error) {
      failure ??= error
      stopping.abort(error)
    }
  }
  await Promise.all(Array.from({ length: Math.min(batchesInFlight, batches.length - 1) }, lane))
  if (failure !== undefined) throw failure
  return embedded
}

/** The base's vectors and these must of one model and size to be compared; otherwise the item cannot be indexed. */
function refuseOtherEmbeddings(
  base: { embedding_model: string | null; embedding_dimensions: number | null },
  model: string,
  dimensions: number,
): void {
  if (base.embedding_model !== null && base.embedding_model !== model) {
    throw new PermanentJobError(
      `The knowledge base uses the embeddings model "${base.embedding_model}", but the server embeds with "${model}": ` +
        'their vectors cannot be compared. Configure that model again, or index into a new base.',
    )
  }
  if (base.embedding_dimensions !== null && base.embedding_dimensions !== dimensions) {
    throw new PermanentJobError(
      `The knowledge base holds vectors of ${base.embedding_dimensions} dimensions, but the server's embeddings have ${dimensions}.`,
    )
  }
}

/**
 * What a failed attempt is recorded as. The message ends up on the item, where a tenant reads it: the
 * provider's cleaned message or our own, never a database's. An attempt to be tried again puts the item back
 * in the queue, saying why; the last one is the failed hook's to record.
 */
async function failedAttempt(job: Job, ctx: JobContext, version: number, error: unknown): Promise<unknown> {
  if (ctx.signal.aborted) return error
  let failure = error
  if (error instanceof EmbeddingsError && (error.status === 400 || error.status === 413 || error.status === 422)) {
    // The provider refused this content itself (too long, say): trying again would be refused again.
    failure = new PermanentJobError(error.message)
  } else if (!(error instanceof PermanentJobError || error instanceof EmbeddingsError)) {
    console.error(`[jobs] indexing item ${String(job.payload.item_id)} failed:`, error)
    failure = new Error('Indexing failed on the server.')
  }
  if (!(failure instanceof PermanentJobError) && job.attempt < job.maxAttempts) {
    const message = `${(failure as Error).message} (attempt ${job.attempt} of ${job.maxAttempts}; trying again)`
    await requeueItem(ctx.sql, job.orgId, String(job.payload.item_id), version, message).catch(() => {})
  }
  return failure
}
