// Embedding email for search by meaning (sql/20261130000025_email_search_vectors.sql): the job
// `email.embed_messages` embeds one stored message (`{ message_id }`, queued by the messages' trigger) or,
// with no message named, a batch of the organisation's mail that has no vector for the current model yet
// (the backfill queued when the organisation first searches by meaning), queueing the next batch itself.
// On a deployment without an embeddings provider the job finishes at once.
import type { Db, Sql } from '../../_core/db.ts'
import { embeddingsFromEnv } from '../../_core/embeddings/provider.ts'
import type { EmbeddingsProvider } from '../../_core/embeddings/types.ts'
import { recordEmbeddingsUsage } from '../../_core/embeddings/usage.ts'
import { vectorToBytes } from '../../_core/embeddings/vectors.ts'
import { readEnv } from '../../_core/env.ts'
import { enqueueJobFor } from '../../_core/jobs/queue.ts'
import { type Job, type JobContext, type JobKind, PermanentJobError } from '../../_core/jobs/types.ts'
import { isUuid } from '../../_core/uuid.ts'

export const embedMessagesKind = 'email.embed_messages'

/** Messages embedded per provider call by the backfill. */
const backfillBatch = 64
/** Enough of a message to say what it is about; the rest would cost tokens and blur the vector. */
const maxChars = 8000

/** What is embedded of a message: its subject and new text, clipped. */
export function embeddedText(m: { subject: string | null; extracted_text: string | null }): string {
  const text = `${m.subject ?? ''}\n\n${m.extracted_text ?? ''}`.trim()
  const chars = Array.from(text)
  return chars.length > maxChars ? chars.slice(0, maxChars).join('') : text
}

interface MessageToEmbed {
  id: string
  inbox_id: string
  subject: string | null
  extracted_text: string | null
}

/** The organisation's messages still to embed: the one named, or a batch of any without a current vector. */
function messagesToEmbed(sql: Sql, orgId: string, messageId: string | null) {
  return sql<MessageToEmbed[]>`
    select m.id, m.inbox_id, m.subject, m.extracted_text
    from agentry.email_messages m
    join agentry.email_vector_orgs o on o.org_id = m.org_id
    where m.org_id = ${orgId} ${messageId ? sql`and m.id = ${messageId}` : sql``}
      and not exists (
        select from agentry.email_message_vectors v
        where v.message_id = m.id and v.created_at >= o.enabled_at)
    order by m.created_at, m.id
    limit ${messageId ? 1 : backfillBatch}`
}

export function embedMessagesJob(provider: () => EmbeddingsProvider | null = () => embeddingsFromEnv(readEnv)): JobKind {
  return {
    async run(job: Job, ctx: JobContext) {
      const embeddings = provider()
      if (!embeddings) return
      const named = job.payload.message_id
      if (named !== undefined && (typeof named !== 'string' || !isUuid(named))) {
        throw new PermanentJobError('The job names no message')
      }
      const messageId = named ?? null
      const messages = await messagesToEmbed(ctx.sql, job.orgId, messageId)
      if (messages.length === 0) return
      const result = await embeddings.embed(messages.map(embeddedText), ctx.signal)
      await recordEmbeddingsUsage(ctx.sql, { orgId: job.orgId, requestedModel: embeddings.model, embeddings: result })
      await storeVectors(ctx.sql, job.orgId, messages, result.vectors, result.model)
      if (!messageId && messages.length === backfillBatch) await queueBackfill(ctx.sql, job.orgId)
    },
  }
}

async function storeVectors(sql: Sql, orgId: string, messages: MessageToEmbed[], vectors: Float32Array[], model: string) {
  const rows = messages.map((m, i) => ({ message_id: m.id, inbox_id: m.inbox_id, embedding: base64Of(vectorToBytes(vectors[i])) }))
  // A message deleted since it was read is skipped: the insert takes only those still there.
  await sql`
    insert into agentry.email_message_vectors (message_id, org_id, inbox_id, embedding, embedding_model)
    select r.message_id, ${orgId}, r.inbox_id, decode(r.embedding, 'base64'), ${model}
    from jsonb_to_recordset(${sql.json(rows as never)}) as r(message_id uuid, inbox_id uuid, embedding text)
    where exists (select from agentry.email_messages m where m.id = r.message_id)
    on conflict (message_id) do update
      set embedding = excluded.embedding, embedding_model = excluded.embedding_model, created_at = now()`
}

function base64Of(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

function queueBackfill(sql: Db, orgId: string) {
  return enqueueJobFor(sql, orgId, embedMessagesKind, {}, { dedupeKey: 'backfill' })
}

/** Organisations known in this process to search by meaning, with the model they were switched on for. */
const switchedOn = new Map<string, string>()

/**
 * Switches search by meaning on for an organisation (once per process, or again when the model changes): its
 * new mail is embedded as it is stored, and its existing mail by a backfill. Written as the service: tenants
 * cannot write the setting.
 */
export async function switchOnEmailVectors(sql: Db, orgId: string, model: string): Promise<void> {
  if (switchedOn.get(orgId) === model) return
  const changed = await sql<{ org_id: string }[]>`
    insert into agentry.email_vector_orgs as o (org_id, embedding_model) values (${orgId}, ${model})
    on conflict (org_id) do update set embedding_model = excluded.embedding_model, enabled_at = now()
      where o.embedding_model <> excluded.embedding_model
    returning o.org_id`
  if (changed.length > 0) await queueBackfill(sql, orgId)
  switchedOn.set(orgId, model)
}
