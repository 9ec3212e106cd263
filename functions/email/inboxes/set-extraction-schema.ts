import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { setExtractionSchema } from './operations.ts'
import { DomainInboxParams, ExtractionSchema, Inbox } from './schemas.ts'
import { inboxView } from './view.ts'

export const setExtractionSchemaRoute = defineRoute({
  method: 'put',
  path: '/domains/{id}/inboxes/{inboxId}/extraction-schema',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Set an inbox’s extraction schema',
  description:
    'A JSON Schema of `"type": "object"` naming the fields to extract in `properties`. While `enabled` (default true), ' +
    'every inbound message is parsed into `extracted_data` by it. Replaces any earlier schema.',
  request: { params: DomainInboxParams, body: { content: { 'application/json': { schema: ExtractionSchema } } } },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerSetExtractionSchema = (api: Api) =>
  api.openapi(setExtractionSchemaRoute, async (c) => {
    const params = c.req.valid('param')
    const body = c.req.valid('json')
    const schema = { name: body.name, description: body.description ?? null, schema: body.schema, enabled: body.enabled ?? true }
    const inbox = await setExtractionSchema(tenantOf(c), { id: params.inboxId, domainId: params.id }, schema)
    return c.json({ data: inboxView(inbox) }, 200)
  })
