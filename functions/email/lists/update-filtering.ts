import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf, idParams } from '../../_core/schemas.ts'
import { updateFiltering } from './queries.ts'
import { Filtering, UpdateFilteringBody } from './schemas.ts'

export const updateFilteringRoute = defineRoute({
  method: 'patch',
  path: '/inboxes/{id}/filtering',
  scope: 'inboxes:write',
  tags: ['Email'],
  summary: "Change an inbox's filtering settings",
  description:
    '`blocked_senders`: `refuse` (default) answers a blocked sender with a 5xx at SMTP time and stores nothing; `flag` ' +
    'stores the message with the `blocked` label. `allow_list_only`: accept only senders on an allow list, treating ' +
    'anyone else as blocked. `spam_threshold` (default 5): a message whose spam score reaches it gets the `spam` label ' +
    'and its thread the `spam` tag. Fields left out keep their value.',
  request: {
    params: idParams('Inbox'),
    body: { required: true, content: { 'application/json': { schema: UpdateFilteringBody } } },
  },
  responses: { 200: { description: 'The settings now', content: { 'application/json': { schema: dataOf(Filtering) } } } },
})

export const registerUpdateFiltering = (api: Api) =>
  api.openapi(updateFilteringRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => updateFiltering(tx, id, c.req.valid('json')))
    if (!row) throw notFound('Inbox')
    return c.json({ data: row }, 200)
  })
