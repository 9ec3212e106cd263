import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { removeInbox } from './operations.ts'
import { Inbox, InboxParams } from './schemas.ts'
import { inboxView } from './view.ts'

export const deleteInboxRoute = defineRoute({
  method: 'delete',
  path: '/inboxes/{id}',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Delete an inbox',
  description:
    'Deletes the inbox with its threads and messages, and its webhook endpoint when the key holds `webhooks:write`. ' +
    'Answers with the inbox as it was. An inbox of any domain (the shared one’s inboxes have no other path).',
  request: { params: InboxParams },
  responses: { 200: { description: 'The deleted inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerDeleteInbox = (api: Api) =>
  api.openapi(deleteInboxRoute, async (c) => {
    const params = c.req.valid('param')
    return c.json({ data: inboxView(await removeInbox(tenantOf(c), { id: params.id })) }, 200)
  })
