import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { forgetOrganisation } from '../_core/request-path.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findOwnOrg, renameOwnOrg } from './queries.ts'
import { Organisation, UpdateOrgBody } from './schemas.ts'

export const updateOrgRoute = defineRoute({
  method: 'patch',
  path: '/agent/org',
  scope: 'org:write',
  tags: ['Organisation'],
  summary: 'Rename your organisation',
  request: { body: { content: { 'application/json': { schema: UpdateOrgBody } } } },
  errors: { 404: "The credential's organisation no longer exists" },
  responses: { 200: { description: 'The updated organisation', content: { 'application/json': { schema: dataOf(Organisation) } } } },
})

export const registerUpdateOrg = (api: Api) =>
  api.openapi(updateOrgRoute, async (c) => {
    const { name } = c.req.valid('json')
    const org = await withTenant(tenantOf(c), async (tx) => ((await renameOwnOrg(tx, name)) ? findOwnOrg(tx) : undefined))
    if (!org) throw notFound('Organisation')
    forgetOrganisation(c.get('principal').orgId)
    return c.json({ data: org }, 200)
  })
