import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { listKeys } from './queries.ts'
import { ApiKey } from './schemas.ts'

export const listKeysRoute = defineRoute({
  method: 'get',
  path: '/agent/api-keys',
  scope: 'keys:read',
  tags: ['API keys'],
  summary: 'List API keys',
  description: "Every key of the organisation (an agent key sees its own agent's keys only). Raw keys are never returned.",
  responses: { 200: { description: 'The keys', content: { 'application/json': { schema: dataOf(z.array(ApiKey)) } } } },
})

export const registerListKeys = (api: Api) =>
  api.openapi(listKeysRoute, async (c) => {
    const keys = await withTenant(tenantOf(c), (tx) => listKeys(tx))
    return c.json({ data: keys }, 200)
  })
