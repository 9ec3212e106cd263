import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { getInbox } from './operations.ts'
import { Inbox, DomainInboxParams } from './schemas.ts'
import { inboxView } from './view.ts'

export const getDomainInboxRoute = defineRoute({
  method: 'get',
  path: '/domains/{id}/inboxes/{inboxId}',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: 'Get an inbox',
  description: 'An inbox of this domain.',
  request: { params: DomainInboxParams },
  responses: { 200: { description: 'The inbox', content: { 'application/json': { schema: dataOf(Inbox) } } } },
})

export const registerGetDomainInbox = (api: Api) =>
  api.openapi(getDomainInboxRoute, async (c) => {
    const params = c.req.valid('param')
    return c.json({ data: inboxView(await getInbox(tenantOf(c), { id: params.inboxId, domainId: params.id })) }, 200)
  })
