import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { refuseUnofferedModel } from './model.ts'
import { insertAgent } from './queries.ts'
import { Agent, CreateAgentBody } from './schemas.ts'

export const createAgentRoute = defineRoute({
  method: 'post',
  path: '/agents',
  scope: 'agents:write',
  tags: ['Agents'],
  summary: 'Create an agent',
  description:
    'An organisation credential creates agents (an agent key cannot). Chat with it at POST /chat/{id}. `model` ' +
    'must be one this server offers (AGENT_MODELS, or the priced models); a 400 names them.',
  request: { body: { content: { 'application/json': { schema: CreateAgentBody } } } },
  responses: { 201: { description: 'The new agent', content: { 'application/json': { schema: dataOf(Agent) } } } },
})

export const registerCreateAgent = (api: Api) =>
  api.openapi(createAgentRoute, async (c) => {
    const p = c.get('principal')
    if (p.agentId) throw new ApiError('insufficient_scope', 'An agent key cannot create agents; use an organisation token.')
    const body = c.req.valid('json')
    const agent = await withTenant(tenantOf(c), async (tx) => {
      await refuseUnofferedModel(tx, body.model)
      return insertAgent(tx, p.orgId, body)
    })
    return c.json({ data: agent }, 201)
  })
