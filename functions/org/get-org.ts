import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findOwnOrg } from './queries.ts'
import { Organisation } from './schemas.ts'

export const getOrgRoute = defineRoute({
  method: 'get',
  path: '/agent/org',
  scope: 'org:read',
  tags: ['Organisation'],
  summary: 'Get your organisation',
  errors: { 404: "The credential's organisation no longer exists" },
  responses: { 200: { description: 'The organisation', content: { 'application/json': { schema: dataOf(Organisation) } } } },
})

export const registerGetOrg = (api: Api) =>
  api.openapi(getOrgRoute, async (c) => {
    const org = await withTenant(tenantOf(c), (tx) => findOwnOrg(tx))
    if (!org) throw notFound('Organisation')
    return c.json({ data: org }, 200)
  })
