import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listDomains } from './queries.ts'
import { Domain, DomainQuery } from './schemas.ts'
import { domainView } from './view.ts'

export const listDomainsRoute = defineRoute({
  method: 'get',
  path: '/domains',
  scope: 'domains:read',
  tags: ['Email'],
  summary: 'List custom email domains',
  description: 'Newest first; page with `next_cursor`. The shared domain is not listed: it needs no setup.',
  request: { query: DomainQuery },
  responses: { 200: { description: 'A page of domains', content: { 'application/json': { schema: cursorPage(Domain) } } } },
})

export const registerListDomains = (api: Api) =>
  api.openapi(listDomainsRoute, async (c) => {
    const q = c.req.valid('query')
    const page = pageOf(await withTenant(tenantOf(c), (tx) => listDomains(tx, q)), q.limit)
    return c.json({ ...page, data: page.data.map(domainView) }, 200)
  })
