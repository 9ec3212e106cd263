import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { draftFieldsOf } from './fields.ts'
import { requireDraft, updateDraft } from './queries.ts'
import { Draft, DraftParams, UpdateDraftBody } from './schemas.ts'
import { draftView } from './view.ts'

export const updateDraftRoute = defineRoute({
  method: 'patch',
  path: '/drafts/{id}',
  scope: 'drafts:write',
  tags: ['Drafts'],
  summary: 'Change a draft',
  description:
    'Changes the fields sent. A draft waiting for approval stays waiting: changing it does not approve it. A sent draft ' +
    'cannot change (409).',
  request: { params: DraftParams, body: { content: { 'application/json': { schema: UpdateDraftBody } } } },
  errors: { 409: 'The draft was sent already' },
  responses: { 200: { description: 'The draft', content: { 'application/json': { schema: dataOf(Draft) } } } },
})

export const registerUpdateDraft = (api: Api) =>
  api.openapi(updateDraftRoute, async (c) => {
    const { id } = c.req.valid('param')
    const fields = draftFieldsOf(c.req.valid('json'))
    const draft = await withTenant(tenantOf(c), async (tx) => {
      const current = await requireDraft(tx, id, { lock: true })
      if (current.status === 'sent') throw new ApiError('conflict', 'The draft was sent already and cannot change.')
      return updateDraft(tx, id, fields)
    })
    return c.json({ data: draftView(draft) }, 200)
  })
