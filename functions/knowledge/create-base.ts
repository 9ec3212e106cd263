import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { insertBase, linkAgents, refuseOverlap, requireBase } from './base-queries.ts'
import { CreateBaseBody, KnowledgeBase } from './schemas.ts'

export const createBaseRoute = defineRoute({
  method: 'post',
  path: '/bases',
  scope: 'knowledge:write',
  tags: ['Knowledge'],
  summary: 'Create a knowledge base',
  description:
    'An organisation credential creates bases (an agent key cannot). `agent_ids` links the agents that retrieve from ' +
    'it; their keys may then reach it. Chunking is sized in tokens, estimated as characters / 4.',
  request: { body: { content: { 'application/json': { schema: CreateBaseBody } } } },
  errors: { 404: 'An agent named in `agent_ids` does not exist for this credential' },
  responses: { 201: { description: 'The new knowledge base', content: { 'application/json': { schema: dataOf(KnowledgeBase) } } } },
})

export const registerCreateBase = (api: Api) =>
  api.openapi(createBaseRoute, async (c) => {
    const p = c.get('principal')
    if (p.agentId) throw new ApiError('insufficient_scope', 'An agent key cannot create knowledge bases; use an organisation token.')
    const { agent_ids: agentIds, ...fields } = c.req.valid('json')
    refuseOverlap(fields.chunk_size ?? 400, fields.chunk_overlap ?? 50)
    const base = await withTenant(tenantOf(c), async (tx) => {
      const id = await insertBase(tx, p.orgId, fields)
      if (agentIds) await linkAgents(tx, p.orgId, id, agentIds)
      return requireBase(tx, id)
    })
    return c.json({ data: base }, 201)
  })
