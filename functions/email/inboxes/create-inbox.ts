import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { createInbox } from './operations.ts'
import { CreateInboxBody, InboxWithSecret } from './schemas.ts'
import { inboxView } from './view.ts'

export const createInboxRoute = defineRoute({
  method: 'post',
  path: '/inboxes',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: 'Create an inbox on the shared domain',
  description:
    'No DNS needed: the address is `<local_part>@<shared domain>` (EMAIL_SHARED_DOMAIN). `webhook` makes a webhook ' +
    'endpoint filtered by this inbox; its secret is in this answer, once. Addresses are unique across all organisations.',
  request: { body: { content: { 'application/json': { schema: CreateInboxBody } } } },
  errors: {
    403: "The credential lacks the route's scope, or `webhook` is set and it lacks `webhooks:write`",
    404: 'The agent named by `agent_id` does not exist for this credential',
    409: 'The address is taken, or `webhook` would exceed the plan’s webhook endpoints',
  },
  responses: { 201: { description: 'The new inbox', content: { 'application/json': { schema: dataOf(InboxWithSecret) } } } },
})

export const registerCreateInbox = (api: Api) =>
  api.openapi(createInboxRoute, async (c) => {
    const inbox = await createInbox(tenantOf(c), c.get('principal'), null, c.req.valid('json'))
    return c.json({ data: inboxView(inbox) }, 201)
  })
