import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { listDrafts } from './queries.ts'
import { Draft, DraftQuery } from './schemas.ts'
import { draftView } from './view.ts'

export const listDraftsRoute = defineRoute({
  method: 'get',
  path: '/drafts',
  scope: 'drafts:read',
  tags: ['Drafts'],
  summary: 'List drafts',
  description:
    'Newest first, of every inbox the credential reaches or of one (`inbox_id`); `status=pending_approval` lists those ' +
    'waiting for approval.',
  request: { query: DraftQuery },
  responses: { 200: { description: 'A page of drafts', content: { 'application/json': { schema: cursorPage(Draft) } } } },
})

export const registerListDrafts = (api: Api) =>
  api.openapi(listDraftsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) =>
      listDrafts(tx, { inboxId: q.inbox_id, status: q.status, limit: q.limit, cursor: q.cursor }),
    )
    const page = rows.slice(0, q.limit)
    const hasMore = rows.length > q.limit
    return c.json({ data: page.map(draftView), next_cursor: hasMore ? page[page.length - 1].position : null, has_more: hasMore }, 200)
  })
