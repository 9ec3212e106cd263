import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { createInbox } from './operations.ts'
import { CreateInboxBody, DomainParams, InboxWithSecret } from './schemas.ts'
import { inboxView } from './view.ts'

export const createDomainInboxRoute = defineRoute({
  method: 'post',
  path: '/domains/{id}/inboxes',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Create an inbox on a custom domain',
  description:
    'The address is `<local_part>@<domain>`. The domain need not be verified yet to make inboxes; sending from them ' +
    'waits for its verification. `webhook` as for POST /inboxes.',
  request: { params: DomainParams, body: { content: { 'application/json': { schema: CreateInboxBody } } } },
  errors: {
    403: "The credential lacks the route's scope, or `webhook` is set and it lacks `webhooks:write`",
    404: 'No such domain, or no such agent (`agent_id`), for this credential',
    409: 'The address is taken, or `webhook` would exceed the plan’s webhook endpoints',
  },
  responses: { 201: { description: 'The new inbox', content: { 'application/json': { schema: dataOf(InboxWithSecret) } } } },
})

export const registerCreateDomainInbox = (api: Api) =>
  api.openapi(createDomainInboxRoute, async (c) => {
    const inbox = await createInbox(tenantOf(c), c.get('principal'), c.req.valid('param').id, c.req.valid('json'))
    return c.json({ data: inboxView(inbox) }, 201)
  })
