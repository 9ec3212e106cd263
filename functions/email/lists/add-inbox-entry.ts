import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { addEntry, withoutPosition } from './queries.ts'
import { entryFrom, requireInbox } from './respond.ts'
import { AddEntryBody, InboxListParams, ListEntry } from './schemas.ts'

export const addInboxEntryRoute = defineRoute({
  method: 'post',
  path: '/inboxes/{id}/lists',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: "Add to an inbox's allow or block list",
  description:
    'A blocked sender is refused at SMTP time with a 5xx, or stored with the `blocked` label, as the inbox’s ' +
    '`blocked_senders` setting says (`/inboxes/{id}/filtering`); a blocked recipient is left out of sends like a ' +
    'suppressed one. An allow entry wins over a block entry. Adding an entry already there answers 200 with it.',
  request: { params: InboxListParams, body: { required: true, content: { 'application/json': { schema: AddEntryBody } } } },
  responses: {
    200: { description: 'The entry was there already', content: { 'application/json': { schema: dataOf(ListEntry) } } },
    201: { description: 'The entry added', content: { 'application/json': { schema: dataOf(ListEntry) } } },
  },
})

export const registerAddInboxEntry = (api: Api) =>
  api.openapi(addInboxEntryRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const entry = entryFrom(body)
    const tenant = tenantOf(c)
    const { row, created } = await withTenant(tenant, async (tx) => {
      await requireInbox(tx, id)
      return addEntry(tx, tenant.org_id, id, body.list, entry)
    })
    return created ? c.json({ data: withoutPosition(row) }, 201) : c.json({ data: withoutPosition(row) }, 200)
  })
