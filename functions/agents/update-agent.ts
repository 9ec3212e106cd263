import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { refuseUnofferedModel } from './model.ts'
import { updateAgent } from './queries.ts'
import { Agent, AgentParams, UpdateAgentBody } from './schemas.ts'

export const updateAgentRoute = defineRoute({
  method: 'patch',
  path: '/agents/{id}',
  scope: 'agents:write',
  tags: ['Agents'],
  summary: 'Update an agent',
  description: 'Change its name, instructions, model (one this server offers), temperature, output limit, status or metadata.',
  request: { params: AgentParams, body: { content: { 'application/json': { schema: UpdateAgentBody } } } },
  responses: { 200: { description: 'The agent', content: { 'application/json': { schema: dataOf(Agent) } } } },
})

export const registerUpdateAgent = (api: Api) =>
  api.openapi(updateAgentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const agent = await withTenant(tenantOf(c), async (tx) => {
      await refuseUnofferedModel(tx, body.model)
      return updateAgent(tx, id, body)
    })
    if (!agent) throw notFound('Agent')
    return c.json({ data: agent }, 200)
  })
