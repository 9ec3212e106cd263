import { insertForAgent, owningAgent } from '../_core/agent-ownership.ts'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { refuseUnreachableUrl } from './endpoint-url.ts'
import { endpointAllowance, insertEndpoint } from './queries.ts'
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
    '(`x-agentry-signature` and Standard Webhooks); the signing secret is in this response, once. The plan ' +
    'caps how many endpoints an organisation has (`max_webhook_endpoints`).',
  request: { body: { content: { 'application/json': { schema: CreateEndpointBody } } } },
  errors: {
    404: 'The agent named by `agent_id` does not exist for this credential',
    409: 'The organisation has as many endpoints as its plan allows',
  },
  responses: {
    201: { description: 'The endpoint, with its secret', content: { 'application/json': { schema: dataOf(EndpointWithSecret) } } },
  },
})

export const registerCreateEndpoint = (api: Api) =>
  api.openapi(createEndpointRoute, async (c) => {
    const body = c.req.valid('json')
    const p = c.get('principal')
    const agentId = owningAgent(p, body.agent_id)
    refuseUnreachableUrl(body.url)
    const endpoint = await withTenant(tenantOf(c), async (tx) => {
      const allowance = await endpointAllowance(tx)
      if (allowance.endpoints >= allowance.max_endpoints) {
        throw new ApiError(
          'conflict',
          `This organisation has ${allowance.endpoints} webhook endpoints, the most its plan (${allowance.plan_name}) allows ` +
            `(max_webhook_endpoints: ${allowance.max_endpoints}). Delete one, or move to a plan that allows more.`,
        )
      }
      return insertForAgent(
        insertEndpoint(tx, {
          orgId: p.orgId,
          agentId,
          url: body.url,
          description: body.description ?? null,
          events: [...new Set(body.events)],
          filters: (body.filters ?? {}) as Record<string, string>,
          enabled: body.enabled ?? true,
          secret: generateSecret(),
        }),
      )
    })
    return c.json({ data: endpoint }, 201)
  })
