import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { z } from '@hono/zod-openapi'
import { changesChunking, hasChunks, linkAgents, refuseOverlap, requeueItems, requireBase, updateBase } from './base-queries.ts'
import { BaseParams, KnowledgeBase, UpdateBaseBody } from './schemas.ts'

const UpdatedBase = KnowledgeBase.extend({
  items_requeued: z
    .number()
    .int()
    .openapi({ description: 'Items this change queues for indexing again: all of the base’s when its chunking changed, else 0.' }),
}).openapi('UpdatedKnowledgeBase')

export const updateBaseRoute = defineRoute({
  method: 'patch',
  path: '/bases/{id}',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Update a knowledge base',
  description:
    'Change its name, description, chunking or agents (`agent_ids`, the full list; organisation credentials only). ' +
    'A new `chunk_size` or `chunk_overlap` re-indexes the whole base: in the same transaction every item goes back to ' +
    '`queued` (progress reset, a new `content_version`) with one indexing job each, and `items_requeued` says how many; ' +
    'the items are chunked with the new settings as the jobs run. A base of more than 5,000 items is queued again by a ' +
    'background job instead, a batch at a time, shortly after the change commits. Other changes re-index nothing ' +
    '(`items_requeued` is 0). ' +
    'The embedding model and dimensions are fixed once the base has chunks.',
  request: { params: BaseParams, body: { content: { 'application/json': { schema: UpdateBaseBody } } } },
  errors: {
    404: 'No such knowledge base for this credential, or an agent named in `agent_ids` does not exist',
    409: 'The embedding model or dimensions would change while the base has chunks',
  },
  responses: { 200: { description: 'The knowledge base', content: { 'application/json': { schema: dataOf(UpdatedBase) } } } },
})

export const registerUpdateBase = (api: Api) =>
  api.openapi(updateBaseRoute, async (c) => {
    const { id } = c.req.valid('param')
    const p = c.get('principal')
    const { agent_ids: agentIds, ...fields } = c.req.valid('json')
    const base = await withTenant(tenantOf(c), async (tx) => {
      const current = await requireBase(tx, id, { lock: true })
      if (agentIds && p.agentId)
        throw new ApiError('insufficient_scope', "An agent key cannot change a base's agents; use an organisation token.")
      refuseOverlap(fields.chunk_size ?? current.chunk_size, fields.chunk_overlap ?? current.chunk_overlap)
      const changesEmbedding =
        (fields.embedding_model !== undefined && fields.embedding_model !== current.embedding_model) ||
        (fields.embedding_dimensions !== undefined && fields.embedding_dimensions !== current.embedding_dimensions)
      if (changesEmbedding && (await hasChunks(tx, id))) {
        throw new ApiError(
          'conflict',
          'The embedding model and dimensions are fixed once the base has chunks: their vectors could not be compared with ' +
            "new ones. Create a new base for another model, or delete this base's items first.",
        )
      }
      await updateBase(tx, id, fields)
      if (agentIds) await linkAgents(tx, p.orgId, id, agentIds)
      const itemsRequeued = changesChunking(current, fields) ? await requeueItems(tx, id) : 0
      return { ...(await requireBase(tx, id)), items_requeued: itemsRequeued }
    })
    return c.json({ data: base }, 200)
  })
