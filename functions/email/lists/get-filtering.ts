import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf, idParams } from '../../_core/schemas.ts'
import { getFiltering } from './queries.ts'
import { Filtering } from './schemas.ts'

export const getFilteringRoute = defineRoute({
  method: 'get',
  path: '/inboxes/{id}/filtering',
  scope: 'inboxes:read',
  tags: ['Email'],
  summary: "Get an inbox's filtering settings",
  description: 'What the inbox does with blocked senders, whether it takes mail only from its allow lists, and its spam threshold.',
  request: { params: idParams('Inbox') },
  responses: { 200: { description: 'The settings', content: { 'application/json': { schema: dataOf(Filtering) } } } },
})

export const registerGetFiltering = (api: Api) =>
  api.openapi(getFilteringRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => getFiltering(tx, id))
    if (!row) throw notFound('Inbox')
    return c.json({ data: row }, 200)
  })
