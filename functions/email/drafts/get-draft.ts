import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { requireDraft } from './queries.ts'
import { Draft, DraftParams } from './schemas.ts'
import { draftView } from './view.ts'

export const getDraftRoute = defineRoute({
  method: 'get',
  path: '/drafts/{id}',
  scope: 'drafts:read',
  tags: ['Drafts'],
  summary: 'Get a draft',
  description: 'The draft with its status; once sent, the message it became (`message_id`).',
  request: { params: DraftParams },
  responses: { 200: { description: 'The draft', content: { 'application/json': { schema: dataOf(Draft) } } } },
})

export const registerGetDraft = (api: Api) =>
  api.openapi(getDraftRoute, async (c) => {
    const { id } = c.req.valid('param')
    const draft = await withTenant(tenantOf(c), (tx) => requireDraft(tx, id))
    return c.json({ data: draftView(draft) }, 200)
  })
