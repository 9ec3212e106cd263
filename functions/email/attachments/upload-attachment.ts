import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import type { Api } from '../../_core/server.ts'
import { decodeContent, sha256Hex } from './content.ts'
import { Attachment, UploadAttachmentBody } from './schemas.ts'
import { type AttachmentStore, postgresAttachmentStore } from './store.ts'
import { attachmentView } from './view.ts'

/** The request body an upload may take: 10 MB as base64 (a third more), with room for the rest of the JSON. */
export const uploadBodyBytes = 14 * 1024 * 1024

export const uploadAttachmentRoute = defineRoute({
  method: 'post',
  path: '/attachments/upload',
  scope: 'attachments:write',
  tags: ['Attachments'],
  summary: 'Upload an attachment',
  description:
    'A file, base64-encoded in `content`, to attach to messages sent afterwards (`attachments: [attachment_id]`). ' +
    'At most 10 MB decoded. Everything an organisation stores (attachments received included) counts against its ' +
    "plan's `max_attachment_bytes`.",
  request: { body: { content: { 'application/json': { schema: UploadAttachmentBody } } } },
  errors: {
    413: "The file is over 10 MB decoded, or storing it would take the organisation past its plan's max_attachment_bytes",
  },
  responses: { 201: { description: 'The stored attachment', content: { 'application/json': { schema: dataOf(Attachment) } } } },
})

export const registerUploadAttachment = (api: Api, store: AttachmentStore = postgresAttachmentStore) =>
  api.openapi(uploadAttachmentRoute, async (c) => {
    const body = c.req.valid('json')
    const content = decodeContent(body.content)
    const contentType = (body.content_type ?? body.mime_type ?? 'application/octet-stream').toLowerCase()
    const sha256 = await sha256Hex(content)
    const row = await withTenant(tenantOf(c), (tx) =>
      store
        .save(tx, { filename: body.filename, contentType, content, sha256 })
        .catch((error: { code?: string; constraint_name?: string; detail?: string }) => {
          if (error.code === '23514' && error.constraint_name === 'max_attachment_bytes') throw overQuota(error.detail)
          throw error
        }),
    )
    return c.json({ data: attachmentView(row) }, 201)
  })

/** The plan's storage quota, as the database's check reports it (sql/20261130000024_email_attachments.sql). */
function overQuota(detail: string | undefined): ApiError {
  const quota = JSON.parse(detail ?? '{}') as { plan?: string; max_attachment_bytes?: number; stored_bytes?: number; size_bytes?: number }
  return new ApiError(
    'payload_too_large',
    `This organisation stores ${quota.stored_bytes} bytes of attachments; ${quota.size_bytes} more would pass its plan's ` +
      `(${quota.plan}) quota of ${quota.max_attachment_bytes} bytes (max_attachment_bytes). Delete messages with ` +
      'attachments, or move to a plan that stores more.',
  )
}
