import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { removeEntry, withoutPosition } from './queries.ts'
import { ListEntry, OrgEntryParams } from './schemas.ts'

export const removeOrgEntryRoute = defineRoute({
  method: 'delete',
  path: '/email/lists/{entry_id}',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: "Remove from the organisation's allow or block list",
  description: 'Organisation credentials only. Answers with the entry as it was.',
  request: { params: OrgEntryParams },
  errors: { 403: "The credential lacks the route's scope, or is an agent key" },
  responses: { 200: { description: 'The removed entry', content: { 'application/json': { schema: dataOf(ListEntry) } } } },
})

export const registerRemoveOrgEntry = (api: Api) =>
  api.openapi(removeOrgEntryRoute, async (c) => {
    if (c.get('principal').agentId) {
      throw new ApiError('insufficient_scope', "An agent key cannot change the organisation's lists; use an organisation key.")
    }
    const { entry_id } = c.req.valid('param')
    const removed = await withTenant(tenantOf(c), (tx) => removeEntry(tx, null, entry_id))
    if (!removed) throw notFound('List entry')
    return c.json({ data: withoutPosition(removed) }, 200)
  })
