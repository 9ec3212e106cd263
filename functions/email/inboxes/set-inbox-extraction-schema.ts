import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { setExtractionSchema } from './operations.ts'
import { ExtractionSchema, Inbox, InboxParams } from './schemas.ts'
import { inboxView } from './view.ts'

export const setInboxExtractionSchemaRoute = defineRoute({
  method: 'put',
  path: '/inboxes/{id}/extraction-schema',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Set an inbox’s extraction schema (any domain)',
  description:
    'As `PUT /domains/{id}/inboxes/{inboxId}/extraction-schema`, for an inbox named by id alone, such as one on the shared domain.',
  request: { params: InboxParams, body: { content: { 'application/json': { schema: ExtractionSchema } } } },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerSetInboxExtractionSchema = (api: Api) =>
  api.openapi(setInboxExtractionSchemaRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const schema = { name: body.name, description: body.description ?? null, schema: body.schema, enabled: body.enabled ?? true }
    return c.json({ data: inboxView(await setExtractionSchema(tenantOf(c), { id }, schema)) }, 200)
  })
