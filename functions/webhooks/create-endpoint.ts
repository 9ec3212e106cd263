import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/app.ts'
import { claimsOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { refuseUnreachableUrl } from './endpoint-url.ts'
import { insertEndpoint } from './queries.ts'
import { CreateEndpointBody, EndpointWithSecret } from './schemas.ts'
import { generateSecret } from './signing.ts'

export const createEndpointRoute = defineRoute({
  method: 'post',
  path: '/webhooks',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: 'Create a webhook endpoint',
  description:
    'Subscribes a URL to event types or prefixes (`dataset.row.*`). Deliveries are POSTed signed both ways ' +
    '(`x-agentry-signature` and Standard Webhooks); the signing secret is in this response, once.',
  request: { body: { content: { 'application/json': { schema: CreateEndpointBody } } } },
  responses: { 201: { description: 'The endpoint, with its secret', content: { 'application/json': { schema: z.object({ data: EndpointWithSecret }) } } } },
})

export const registerCreateEndpoint = (api: Api) =>
  api.openapi(createEndpointRoute, async (c) => {
    const body = c.req.valid('json')
    const p = c.get('principal')
    if (p.agentId && body.agent_id && body.agent_id !== p.agentId) throw notFound('Agent')
    refuseUnreachableUrl(body.url)
    const endpoint = await withTenant(claimsOf(p), (tx) =>
      insertEndpoint(tx, {
        orgId: p.orgId,
        agentId: body.agent_id ?? p.agentId,
        url: body.url,
        description: body.description ?? null,
        events: [...new Set(body.events)],
        filters: (body.filters ?? {}) as Record<string, string>,
        enabled: body.enabled ?? true,
        secret: generateSecret(),
      }).catch((error: { code?: string }) => {
        // The composite foreign key proves the agent is this organisation's.
        if (error.code === '23503') throw notFound('Agent')
        throw error
      }),
    )
    return c.json({ data: endpoint }, 201)
  })
