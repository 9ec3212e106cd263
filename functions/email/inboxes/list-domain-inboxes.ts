import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listInboxes, requireDomainOf } from './queries.ts'
import { DomainParams, Inbox, InboxQuery } from './schemas.ts'
import { inboxView } from './view.ts'

export const listDomainInboxesRoute = defineRoute({
  method: 'get',
  path: '/domains/{id}/inboxes',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: 'List a custom domain’s inboxes',
  description: 'Newest first; page with `next_cursor`. An agent key sees its own agent’s inboxes.',
  request: { params: DomainParams, query: InboxQuery },
  responses: { 200: { description: 'A page of inboxes', content: { 'application/json': { schema: cursorPage(Inbox) } } } },
})

export const registerListDomainInboxes = (api: Api) =>
  api.openapi(listDomainInboxesRoute, async (c) => {
    const q = c.req.valid('query')
    const { id } = c.req.valid('param')
    const rows = await withTenant(tenantOf(c), async (tx) => {
      await requireDomainOf(tx, id)
      return listInboxes(tx, { ...q, domainId: id })
    })
    const page = pageOf(rows, q.limit)
    return c.json({ ...page, data: page.data.map(inboxView) }, 200)
  })
