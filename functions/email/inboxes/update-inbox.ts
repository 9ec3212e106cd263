import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { changeInbox } from './operations.ts'
import { InboxWithSecret, InboxParams, UpdateInboxBody } from './schemas.ts'
import { inboxView } from './view.ts'

export const updateInboxRoute = defineRoute({
  method: 'patch',
  path: '/inboxes/{id}',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Update an inbox',
  description:
    'Changes the fields sent: `local_part` (the address), `name`, `status`, `webhook` (`null` removes its endpoint; a ' +
    'new endpoint’s secret is in this answer, once). An inbox of any domain (the shared one’s inboxes have no other path).',
  request: { params: InboxParams, body: { content: { 'application/json': { schema: UpdateInboxBody } } } },
  errors: {
    403: "The credential lacks the route's scope, or `webhook` is sent and it lacks `webhooks:write`",
    409: 'The new address is taken, or `webhook` would exceed the plan’s webhook endpoints',
  },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(InboxWithSecret) } } } },
})

export const registerUpdateInbox = (api: Api) =>
  api.openapi(updateInboxRoute, async (c) => {
    const params = c.req.valid('param')
    const inbox = await changeInbox(tenantOf(c), c.get('principal'), { id: params.id }, c.req.valid('json'))
    return c.json({ data: inboxView(inbox) }, 200)
  })
