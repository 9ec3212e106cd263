import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { stopChannel } from './generations.ts'
import { requestStop } from './queries.ts'
import { AgentParams, StopBody } from './schemas.ts'

export const stopGenerationRoute = defineRoute({
  method: 'post',
  path: '/chat/{agentId}/stop',
  scope: 'chat:write',
  tags: ['Chat'],
  summary: 'Stop a generation',
  description:
    'Stops the reply being generated in the conversation, on whichever server instance runs it. The reply so far is ' +
    'stored as `incomplete`, and a streaming client gets its `message.end` and `done` at once.',
  request: { params: AgentParams, body: { content: { 'application/json': { schema: StopBody } } } },
  responses: {
    202: {
      description: 'Asked to stop',
      content: { 'application/json': { schema: dataOf(z.object({ conversation_id: z.uuid(), stop_requested: z.boolean() })) } },
    },
  },
})

export const registerStopGeneration = (api: Api) =>
  api.openapi(stopGenerationRoute, async (c) => {
    const { agentId } = c.req.valid('param')
    const { conversation_id } = c.req.valid('json')
    await withTenant(tenantOf(c), (tx) => requestStop(tx, agentId, conversation_id, stopChannel))
    return c.json({ data: { conversation_id, stop_requested: true } }, 202)
  })
