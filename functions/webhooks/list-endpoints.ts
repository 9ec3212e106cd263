import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { listEndpoints } from './queries.ts'
import { Endpoint } from './schemas.ts'

export const listEndpointsRoute = defineRoute({
  method: 'get',
  path: '/webhooks',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'List webhook endpoints',
  description: "The organisation's endpoints (an agent key sees its own agent's). Secrets are never listed.",
  responses: { 200: { description: 'The endpoints', content: { 'application/json': { schema: dataOf(z.array(Endpoint)) } } } },
})

export const registerListEndpoints = (api: Api) =>
  api.openapi(listEndpointsRoute, async (c) => {
    const endpoints = await withTenant(tenantOf(c), (tx) => listEndpoints(tx))
    return c.json({ data: endpoints }, 200)
  })
