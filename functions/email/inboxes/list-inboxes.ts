import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listInboxes } from './queries.ts'
import { Inbox, InboxQuery } from './schemas.ts'
import { inboxView } from './view.ts'

export const listInboxesRoute = defineRoute({
  method: 'get',
  path: '/inboxes',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: 'List inboxes on every domain',
  description: 'Newest first; page with `next_cursor`. An agent key sees its own agent’s inboxes.',
  request: { query: InboxQuery },
  responses: { 200: { description: 'A page of inboxes', content: { 'application/json': { schema: cursorPage(Inbox) } } } },
})

export const registerListInboxes = (api: Api) =>
  api.openapi(listInboxesRoute, async (c) => {
    const q = c.req.valid('query')
    const page = pageOf(await withTenant(tenantOf(c), (tx) => listInboxes(tx, q)), q.limit)
    return c.json({ ...page, data: page.data.map(inboxView) }, 200)
  })
