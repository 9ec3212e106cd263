import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { setExtractionSchema } from './operations.ts'
import { DomainInboxParams, Inbox } from './schemas.ts'
import { inboxView } from './view.ts'

export const removeExtractionSchemaRoute = defineRoute({
  method: 'delete',
  path: '/domains/{id}/inboxes/{inboxId}/extraction-schema',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Remove an inbox’s extraction schema',
  description: 'Inbound messages are no longer parsed into `extracted_data`; what earlier messages hold stays.',
  request: { params: DomainInboxParams },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerRemoveExtractionSchema = (api: Api) =>
  api.openapi(removeExtractionSchemaRoute, async (c) => {
    const params = c.req.valid('param')
    const inbox = await setExtractionSchema(tenantOf(c), { id: params.inboxId, domainId: params.id }, null)
    return c.json({ data: inboxView(inbox) }, 200)
  })
