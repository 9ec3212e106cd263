import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { listAgents } from './queries.ts'
import { Agent } from './schemas.ts'

export const listAgentsRoute = defineRoute({
  method: 'get',
  path: '/agents',
  scope: 'agents:read',
  tags: ['Agents'],
  summary: 'List agents',
  description: "The organisation's agents, oldest first; an agent key sees its own agent only.",
  responses: { 200: { description: 'The agents', content: { 'application/json': { schema: dataOf(z.array(Agent)) } } } },
})

export const registerListAgents = (api: Api) =>
  api.openapi(listAgentsRoute, async (c) => {
    const agents = await withTenant(tenantOf(c), (tx) => listAgents(tx))
    return c.json({ data: agents }, 200)
  })
