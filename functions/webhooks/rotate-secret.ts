import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { rotateSecret } from './queries.ts'
import { EndpointParams, EndpointWithSecret } from './schemas.ts'
import { generateSecret } from './signing.ts'

export const rotateSecretRoute = defineRoute({
  method: 'post',
  path: '/webhooks/{id}/rotate-secret',
  scope: 'webhooks:write',
  tags: ['Webhooks'],
  summary: "Rotate an endpoint's signing secret",
  description:
    'Issues a new secret, returned once. For 24 hours deliveries carry two signatures in each signature header, ' +
    'one by the new secret and one by the old, so receivers can switch over; then the new one alone.',
  request: { params: EndpointParams },
  responses: {
    200: { description: 'The endpoint, with its new secret', content: { 'application/json': { schema: dataOf(EndpointWithSecret) } } },
  },
})

export const registerRotateSecret = (api: Api) =>
  api.openapi(rotateSecretRoute, async (c) => {
    const { id } = c.req.valid('param')
    const endpoint = await withTenant(tenantOf(c), (tx) => rotateSecret(tx, id, generateSecret()))
    if (!endpoint) throw notFound('Webhook endpoint')
    return c.json({ data: endpoint }, 200)
  })
