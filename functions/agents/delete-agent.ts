import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { deleteAgent } from './queries.ts'
import { Agent, AgentParams } from './schemas.ts'

export const deleteAgentRoute = defineRoute({
  method: 'delete',
  path: '/agents/{id}',
  scope: 'agents:write',
  tags: ['Agents'],
  summary: 'Delete an agent',
  description:
    'Deletes the agent with everything that is its own: its keys, conversations, datasets and webhook endpoints. ' +
    'Answers with the agent as it was.',
  request: { params: AgentParams },
  responses: { 200: { description: 'The deleted agent', content: { 'application/json': { schema: dataOf(Agent) } } } },
})

export const registerDeleteAgent = (api: Api) =>
  api.openapi(deleteAgentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const agent = await withTenant(tenantOf(c), (tx) => deleteAgent(tx, id))
    if (!agent) throw notFound('Agent')
    return c.json({ data: agent }, 200)
  })
