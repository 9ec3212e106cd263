import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { DraftParams } from './schemas.ts'
import { deleteDraft } from './queries.ts'

export const deleteDraftRoute = defineRoute({
  method: 'delete',
  path: '/drafts/{id}',
  scope: 'drafts:write',
  tags: ['Drafts'],
  summary: 'Delete a draft',
  description: 'Discards the draft (one waiting for approval too: that is how it is rejected). A sent message stays.',
  request: { params: DraftParams },
  responses: { 204: { description: 'Deleted' } },
})

export const registerDeleteDraft = (api: Api) =>
  api.openapi(deleteDraftRoute, async (c) => {
    const { id } = c.req.valid('param')
    if (!(await withTenant(tenantOf(c), (tx) => deleteDraft(tx, id)))) throw notFound('Draft')
    return c.body(null, 204)
  })
