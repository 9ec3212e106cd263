import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listEntries } from './queries.ts'
import { requireInbox } from './respond.ts'
import { InboxListParams, ListEntry, ListQuery } from './schemas.ts'

export const listInboxEntriesRoute = defineRoute({
  method: 'get',
  path: '/inboxes/{id}/lists',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: "List an inbox's allow or block list",
  description:
    'Addresses and domains whose mail this inbox lets through (`allow`) or blocks (`block`), newest first; the ' +
    "organisation's lists (`/email/lists`) apply as well. `list` picks one of them. Page with `next_cursor`.",
  request: { params: InboxListParams, query: ListQuery },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: cursorPage(ListEntry) } } } },
})

export const registerListInboxEntries = (api: Api) =>
  api.openapi(listInboxEntriesRoute, async (c) => {
    const { id } = c.req.valid('param')
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), async (tx) => {
      await requireInbox(tx, id)
      return listEntries(tx, id, q)
    })
    return c.json(pageOf(rows, q.limit), 200)
  })
