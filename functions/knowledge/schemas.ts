import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'
import { contentTypes } from './plain-text.ts'

export const itemStatuses = ['queued', 'indexing', 'ready', 'failed'] as const

export const KnowledgeBase = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    environment_id: z.uuid().nullable().openapi({ description: 'Set on an environment’s default base (the /knowledge/text routes).' }),
    is_default: z.boolean(),
    embedding_model: z.string().nullable().openapi({ description: 'Fixed once the base has chunks; null: the server’s model.' }),
    embedding_dimensions: z.number().int().nullable(),
    chunk_size: z.number().int().openapi({ description: 'Target chunk size in tokens (estimated as characters / 4).' }),
    chunk_overlap: z.number().int().openapi({ description: 'Tokens a chunk repeats from the one before it.' }),
    agent_ids: z.array(z.uuid()).openapi({
      description: 'The agents that retrieve from this base; their keys may reach it. An agent key is shown its own agent only.',
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('KnowledgeBase')

const itemFields = {
  id: z.uuid(),
  base_id: z.uuid(),
  title: z.string().nullable(),
  content_type: z.enum(contentTypes),
  metadata: z.record(z.string(), z.unknown()),
  namespace: z.string().nullable(),
  entry_id: z.string().nullable(),
  status: z.enum(itemStatuses).openapi({ description: 'queued → indexing → ready | failed; every change queues it again.' }),
  chunks_total: z.number().int(),
  chunks_done: z.number().int(),
  error: z.string().nullable().openapi({ description: 'Why indexing failed, when it did.' }),
  content_version: z.number().int().openapi({ description: 'Moves on every change that needs indexing again.' }),
  indexed_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}

/** An item as listed: everything but its content. */
export const KnowledgeItemSummary = z.object(itemFields).openapi('KnowledgeItemSummary')

export const KnowledgeItem = z
  .object({
    ...itemFields,
    content: z.string().openapi({ description: 'As given.' }),
    text: z.string().openapi({ description: 'The content as plain text: what is chunked and searched.' }),
  })
  .openapi('KnowledgeItem')

export const BaseParams = idParams('Knowledge base')
export const ItemParams = BaseParams.extend(idParams('Item', 'itemId').shape)

// Listings are newest first; the cursor is the last row's creation time and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const BaseQuery = z.object({ limit: limitParam(100, 20), cursor: cursorParam(cursorShape) })

const name = z.string().trim().min(1).max(200)
const namespace = z.string().trim().min(1).max(200)
const entryId = z.string().trim().min(1).max(200)
const metadata = z.record(z.string(), z.unknown())

export const ItemQuery = z.object({
  namespace: namespace.optional(),
  status: z.enum(itemStatuses).optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam(cursorShape),
})

const agentIds = z
  .array(z.uuid({ message: 'Agent id must be a UUID.' }))
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'Agent ids must be unique.' })
  .openapi({ description: 'The full list of agents that retrieve from the base.' })

const baseFields = {
  description: z.string().max(2000).nullable().optional(),
  embedding_model: z.string().trim().min(1).max(200).nullable().optional(),
  embedding_dimensions: z.number().int().min(1).max(8192).nullable().optional(),
  chunk_size: z.number().int().min(50).max(2000).optional().openapi({ description: '50–2000 tokens, default 400.' }),
  chunk_overlap: z.number().int().min(0).max(1999).optional().openapi({ description: 'Less than chunk_size; default 50.' }),
  agent_ids: agentIds.optional(),
}

export const CreateBaseBody = z.strictObject({ name, ...baseFields }).openapi('CreateKnowledgeBase')
export const UpdateBaseBody = z.strictObject({ name: name.optional(), ...baseFields }).openapi('UpdateKnowledgeBase')

const content = z.string().min(1).max(1_000_000)

export const CreateItemBody = z
  .strictObject({
    title: z.string().trim().max(500).nullable().optional(),
    content,
    content_type: z
      .enum(contentTypes)
      .default('text')
      .openapi({ description: '`text` (default), `markdown` or `html`; converted to plain text.' }),
    metadata: metadata.optional(),
    namespace: namespace.nullable().optional(),
    entry_id: entryId.nullable().optional().openapi({ description: 'Your own id for the item, unique in the base.' }),
  })
  .openapi('CreateKnowledgeItem')

export const UpdateItemBody = z
  .strictObject({
    title: z.string().trim().max(500).nullable().optional(),
    content: content.optional(),
    content_type: z.enum(contentTypes).optional(),
    metadata: metadata.optional(),
    namespace: namespace.nullable().optional(),
    entry_id: entryId.nullable().optional(),
  })
  .openapi('UpdateKnowledgeItem')

// The Connic-shaped routes: an environment's default base, addressed by environment id.

const environmentId = z
  .string({ message: 'environment_id is required: the id of one of your environments (GET /org lists them).' })
  .pipe(z.uuid({ message: 'environment_id must be the UUID of one of your environments (GET /org lists them).' }))
  .openapi({ type: 'string', format: 'uuid', description: 'One of your environments (GET /org lists them).' })

export const EnvironmentQuery = z.object({ environment_id: environmentId })
export const EntryQuery = z.object({
  environment_id: environmentId,
  namespace: namespace.optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam(cursorShape),
})

export const ProjectParams = z.object({
  org_id: z
    .uuid({ message: 'Project id must be a UUID: your organisation id.' })
    .openapi({ param: { name: 'org_id', in: 'path' }, description: 'Your organisation id (Connic’s project id).' }),
})
export const EntryParams = z.object({
  entry_id: entryId.openapi({ param: { name: 'entry_id', in: 'path' } }),
})

export const UploadTextBody = z
  .strictObject({
    content,
    namespace,
    entry_id: entryId.optional().openapi({ description: 'Replaces the entry with the same id in this environment.' }),
  })
  .openapi('KnowledgeText')
