import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import type { Api } from '../../_core/server.ts'
import { Attachment, AttachmentParams } from './schemas.ts'
import { findAttachment } from './store.ts'
import { attachmentView } from './view.ts'

export const getAttachmentRoute = defineRoute({
  method: 'get',
  path: '/attachments/{id}',
  scope: 'attachments:read',
  tags: ['Attachments'],
  summary: 'Get an attachment',
  description: "An attachment's metadata: name, type, size, SHA-256 and the message it belongs to. Its bytes come from its `/url`.",
  request: { params: AttachmentParams },
  responses: { 200: { description: 'The attachment', content: { 'application/json': { schema: dataOf(Attachment) } } } },
})

export const registerGetAttachment = (api: Api) =>
  api.openapi(getAttachmentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => findAttachment(tx, id))
    if (!row) throw notFound('Attachment')
    return c.json({ data: attachmentView(row) }, 200)
  })
