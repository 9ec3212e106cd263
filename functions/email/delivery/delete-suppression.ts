import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { deleteSuppression } from './queries.ts'
import { Suppression, SuppressionParams } from './schemas.ts'

export const deleteSuppressionRoute = defineRoute({
  method: 'delete',
  path: '/delivery/suppressions/{id}',
  scope: 'messages:write',
  tags: ['Delivery'],
  summary: 'Remove a suppressed address',
  description:
    'Takes the address off its inbox’s suppression list, so sends reach it again (the address that bounced is fixed, the ' +
    'complaint was withdrawn). Answers with the suppression as it was.',
  request: { params: SuppressionParams },
  responses: { 200: { description: 'The removed suppression', content: { 'application/json': { schema: dataOf(Suppression) } } } },
})

export const registerDeleteSuppression = (api: Api) =>
  api.openapi(deleteSuppressionRoute, async (c) => {
    const { id } = c.req.valid('param')
    const removed = await withTenant(tenantOf(c), (tx) => deleteSuppression(tx, id))
    if (!removed) throw notFound('Suppression')
    return c.json({ data: removed }, 200)
  })
