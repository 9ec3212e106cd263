import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { getInbox } from './operations.ts'
import { Inbox, InboxParams } from './schemas.ts'
import { inboxView } from './view.ts'

export const getInboxRoute = defineRoute({
  method: 'get',
  path: '/inboxes/{id}',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: 'Get an inbox',
  description: 'An inbox of any domain (the shared one’s inboxes have no other path).',
  request: { params: InboxParams },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerGetInbox = (api: Api) =>
  api.openapi(getInboxRoute, async (c) => {
    const params = c.req.valid('param')
    return c.json({ data: inboxView(await getInbox(tenantOf(c), { id: params.id })) }, 200)
  })
