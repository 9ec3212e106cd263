import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listEntries } from './queries.ts'
import { ListEntry, ListQuery } from './schemas.ts'

export const listOrgEntriesRoute = defineRoute({
  method: 'get',
  path: '/email/lists',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: "List the organisation's allow or block list",
  description:
    'Addresses and domains allowed (`allow`) or blocked (`block`) for every inbox of the organisation, newest first; ' +
    '`list` picks one of them. Page with `next_cursor`.',
  request: { query: ListQuery },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: cursorPage(ListEntry) } } } },
})

export const registerListOrgEntries = (api: Api) =>
  api.openapi(listOrgEntriesRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listEntries(tx, null, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
