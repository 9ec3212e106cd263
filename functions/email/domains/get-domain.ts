import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { requireDomain } from './queries.ts'
import { Domain, DomainParams } from './schemas.ts'
import { domainView } from './view.ts'

export const getDomainRoute = defineRoute({
  method: 'get',
  path: '/domains/{id}',
  scope: 'domains:read',
  tags: ['Email'],
  summary: 'Get a custom email domain',
  request: { params: DomainParams },
  responses: { 200: { description: 'The domain', content: { 'application/json': { schema: dataOf(Domain) } } } },
})

export const registerGetDomain = (api: Api) =>
  api.openapi(getDomainRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => requireDomain(tx, id))
    return c.json({ data: domainView(row) }, 200)
  })
