import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { addEntry, withoutPosition } from './queries.ts'
import { entryFrom } from './respond.ts'
import { AddEntryBody, ListEntry } from './schemas.ts'

export const addOrgEntryRoute = defineRoute({
  method: 'post',
  path: '/email/lists',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: "Add to the organisation's allow or block list",
  description:
    'Applies to every inbox of the organisation, beside each inbox’s own lists; an allow entry anywhere wins over a ' +
    'block entry. Organisation credentials only. Adding an entry already there answers 200 with it.',
  request: { body: { required: true, content: { 'application/json': { schema: AddEntryBody } } } },
  errors: { 403: "The credential lacks the route's scope, or is an agent key" },
  responses: {
    200: { description: 'The entry was there already', content: { 'application/json': { schema: dataOf(ListEntry) } } },
    201: { description: 'The entry added', content: { 'application/json': { schema: dataOf(ListEntry) } } },
  },
})

export const registerAddOrgEntry = (api: Api) =>
  api.openapi(addOrgEntryRoute, async (c) => {
    if (c.get('principal').agentId) {
      throw new ApiError('insufficient_scope', "An agent key cannot change the organisation's lists; use an organisation key.")
    }
    const body = c.req.valid('json')
    const entry = entryFrom(body)
    const tenant = tenantOf(c)
    const { row, created } = await withTenant(tenant, (tx) => addEntry(tx, tenant.org_id, null, body.list, entry))
    return created ? c.json({ data: withoutPosition(row) }, 201) : c.json({ data: withoutPosition(row) }, 200)
  })
