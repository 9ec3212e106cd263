import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findAgent } from './queries.ts'
import { Agent, AgentParams } from './schemas.ts'

export const getAgentRoute = defineRoute({
  method: 'get',
  path: '/agents/{id}',
  scope: 'agents:read',
  tags: ['Agents'],
  summary: 'Get an agent',
  request: { params: AgentParams },
  responses: { 200: { description: 'The agent', content: { 'application/json': { schema: dataOf(Agent) } } } },
})

export const registerGetAgent = (api: Api) =>
  api.openapi(getAgentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const agent = await withTenant(tenantOf(c), (tx) => findAgent(tx, id))
    if (!agent) throw notFound('Agent')
    return c.json({ data: agent }, 200)
  })
