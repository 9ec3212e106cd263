import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { removeEntry, withoutPosition } from './queries.ts'
import { InboxEntryParams, ListEntry } from './schemas.ts'

export const removeInboxEntryRoute = defineRoute({
  method: 'delete',
  path: '/inboxes/{id}/lists/{entry_id}',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: "Remove from an inbox's allow or block list",
  description: 'Answers with the entry as it was.',
  request: { params: InboxEntryParams },
  responses: { 200: { description: 'The removed entry', content: { 'application/json': { schema: dataOf(ListEntry) } } } },
})

export const registerRemoveInboxEntry = (api: Api) =>
  api.openapi(removeInboxEntryRoute, async (c) => {
    const { id, entry_id } = c.req.valid('param')
    const removed = await withTenant(tenantOf(c), (tx) => removeEntry(tx, id, entry_id))
    if (!removed) throw notFound('List entry')
    return c.json({ data: withoutPosition(removed) }, 200)
  })
