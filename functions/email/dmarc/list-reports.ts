import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import type { Api } from '../../_core/server.ts'
import { listReports, requireDomain } from './queries.ts'
import { DmarcReport, domainOf, ListReportsQuery } from './schemas.ts'
import { reportView } from './view.ts'

export const listReportsRoute = defineRoute({
  method: 'get',
  path: '/dmarc/reports',
  scope: 'domains:read',
  tags: ['Email'],
  summary: 'List DMARC aggregate reports',
  description: 'A custom domain’s reports (`domain` or `domain_id`), the most recent period first; page with `next_cursor`.',
  request: { query: ListReportsQuery },
  errors: { 404: 'The organisation has no such custom domain' },
  responses: { 200: { description: 'A page of reports', content: { 'application/json': { schema: cursorPage(DmarcReport) } } } },
})

export const registerListReports = (api: Api) =>
  api.openapi(listReportsRoute, async (c) => {
    const q = c.req.valid('query')
    const by = domainOf(q)
    const rows = await withTenant(tenantOf(c), async (tx) => listReports(tx, (await requireDomain(tx, by)).id, q))
    const page = pageOf(rows, q.limit)
    return c.json({ ...page, data: page.data.map(reportView) }, 200)
  })
