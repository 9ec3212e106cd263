import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { endpointHealth } from './queries.ts'
import { Health } from './schemas.ts'

export const endpointHealthRoute = defineRoute({
  method: 'get',
  path: '/webhooks/health',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'Endpoint health',
  description: 'Per endpoint, over the last 24 hours: success rate, p50/p95 latency, failures since the last success, and its state.',
  responses: { 200: { description: "Each endpoint's health", content: { 'application/json': { schema: dataOf(z.array(Health)) } } } },
})

export const registerEndpointHealth = (api: Api) =>
  api.openapi(endpointHealthRoute, async (c) => {
    const health = await withTenant(tenantOf(c), (tx) => endpointHealth(tx))
    return c.json({ data: health }, 200)
  })
