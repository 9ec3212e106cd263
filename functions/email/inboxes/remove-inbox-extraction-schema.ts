import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { setExtractionSchema } from './operations.ts'
import { Inbox, InboxParams } from './schemas.ts'
import { inboxView } from './view.ts'

export const removeInboxExtractionSchemaRoute = defineRoute({
  method: 'delete',
  path: '/inboxes/{id}/extraction-schema',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Remove an inbox’s extraction schema (any domain)',
  description: 'As `DELETE /domains/{id}/inboxes/{inboxId}/extraction-schema`, for an inbox named by id alone.',
  request: { params: InboxParams },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerRemoveInboxExtractionSchema = (api: Api) =>
  api.openapi(removeInboxExtractionSchemaRoute, async (c) => {
    const { id } = c.req.valid('param')
    return c.json({ data: inboxView(await setExtractionSchema(tenantOf(c), { id }, null)) }, 200)
  })
