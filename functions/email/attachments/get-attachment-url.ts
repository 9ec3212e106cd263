import { tenantOf } from '../../_core/auth.ts'
import { now } from '../../_core/clock.ts'
import { database, withTenant } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import type { Api } from '../../_core/server.ts'
import { signDownload } from './download-link.ts'
import { AttachmentParams, AttachmentUrl, AttachmentUrlQuery } from './schemas.ts'
import { findAttachment } from './store.ts'

export const getAttachmentUrlRoute = defineRoute({
  method: 'get',
  path: '/attachments/{id}/url',
  scope: 'attachments:read',
  tags: ['Attachments'],
  summary: 'Get a download link',
  description:
    'A signed link that downloads the attachment with no credential, for `expires_in` seconds (60 to a week, ' +
    'default an hour); afterwards it answers 410. Anyone holding the link can download the file until then.',
  request: { params: AttachmentParams, query: AttachmentUrlQuery },
  responses: { 200: { description: 'The link', content: { 'application/json': { schema: dataOf(AttachmentUrl) } } } },
})

export const registerGetAttachmentUrl = (api: Api) =>
  api.openapi(getAttachmentUrlRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { expires_in } = c.req.valid('query')
    const tenant = tenantOf(c)
    const row = await withTenant(tenant, (tx) => findAttachment(tx, id))
    if (!row) throw notFound('Attachment')
    const expiresAt = new Date(Math.floor(now() / 1000) * 1000 + expires_in * 1000)
    const token = await signDownload(database(), { attachmentId: row.id, orgId: tenant.org_id }, expiresAt)
    const url = `${downloadBase(c.req.url, id)}/attachments/${row.id}/download?token=${encodeURIComponent(token)}`
    return c.json({ data: { url, expires_in, expires_at: expiresAt.toISOString(), filename: row.filename } }, 200)
  })

/**
 * The API's base as its clients reach it: PUBLIC_API_URL when the server sits behind an address it cannot
 * see (a proxy, a gateway), otherwise the one this request came in by.
 */
function downloadBase(requestUrl: string, id: string): string {
  const configured = readEnv('PUBLIC_API_URL')
  if (configured) return configured.replace(/\/+$/, '')
  const url = new URL(requestUrl)
  const suffix = `/attachments/${id}/url`
  return url.origin + (url.pathname.endsWith(suffix) ? url.pathname.slice(0, -suffix.length) : '')
}
