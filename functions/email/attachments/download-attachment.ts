// The download route behind a signed link: no API key (the link is the credential), so it is registered
// as a plain route, outside the key-authenticated operations of the OpenAPI document. It reads on the
// service connection, scoped by hand to the organisation and attachment the link names.
import type { Api } from '../../_core/server.ts'
import { database } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { isUuid } from '../../_core/uuid.ts'
import { checkDownload } from './download-link.ts'
import { type AttachmentStore, findAttachmentOf, postgresAttachmentStore } from './store.ts'

export const downloadAttachmentPath = '/attachments/:id/download'

export const registerDownloadAttachment = (api: Api, store: AttachmentStore = postgresAttachmentStore) =>
  api.get(downloadAttachmentPath, async (c) => {
    const id = c.req.param('id')
    const token = c.req.query('token')
    if (!token)
      throw new ApiError('unauthorized', 'This route needs the `token` of a download link; get one from GET /attachments/{id}/url.')
    if (!isUuid(id)) throw new ApiError('insufficient_scope', 'This download link is not valid for this attachment.')
    const db = database()
    const grant = await checkDownload(db, token, id)
    const row = await findAttachmentOf(db, grant.orgId, grant.attachmentId)
    const content = row ? await store.content(db, grant.orgId, grant.attachmentId) : null
    if (!row || !content) throw notFound('Attachment')
    return c.body(content as Uint8Array<ArrayBuffer>, 200, {
      'content-type': row.content_type,
      'content-length': String(content.length),
      'content-disposition': contentDisposition(row.filename),
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
    })
  })

/**
 * `attachment` with the filename twice: an ASCII fallback, quoted (quotes, backslashes and anything outside
 * printable ASCII replaced), and the exact name in RFC 5987's UTF-8 form for the clients that read it.
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`
}
