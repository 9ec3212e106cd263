import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf, idParams } from '../../_core/schemas.ts'
import { draftFieldsOf } from './fields.ts'
import { createDraft } from './operations.ts'
import { CreateDraftBody, Draft } from './schemas.ts'
import { draftView } from './view.ts'

export const createDraftRoute = defineRoute({
  method: 'post',
  path: '/inboxes/{id}/drafts',
  scope: 'drafts:write',
  tags: ['Drafts'],
  summary: 'Write a draft',
  description:
    'Keeps a message to send later from this inbox: the fields of POST /messages/send (with `thread_id`, a reply in that ' +
    'thread), none of them required until it is sent with POST /drafts/{id}/send. `send_at` schedules it for when it is sent ' +
    '(at most 30 days ahead). Raises `draft.created`.',
  request: { params: idParams('Inbox'), body: { content: { 'application/json': { schema: CreateDraftBody } } } },
  errors: { 404: 'No such inbox, or thread, for this credential' },
  responses: { 201: { description: 'The draft', content: { 'application/json': { schema: dataOf(Draft) } } } },
})

export const registerCreateDraft = (api: Api) =>
  api.openapi(createDraftRoute, async (c) => {
    const { id } = c.req.valid('param')
    const fields = draftFieldsOf(c.req.valid('json'))
    const draft = await withTenant(tenantOf(c), (tx) => createDraft(tx, c.get('principal'), id, fields))
    return c.json({ data: draftView(draft) }, 201)
  })
