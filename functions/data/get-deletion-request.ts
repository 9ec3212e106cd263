import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { findRequest } from './deletion-queries.ts'
import { DeletionRequest, DeletionRequestParams } from './schemas.ts'

export const getDeletionRequestRoute = defineRoute({
  method: 'get',
  path: '/data/deletion-request/{id}',
  scope: 'data:delete',
  tags: ['Data'],
  summary: 'Show a data deletion',
  description:
    'Its status (pending, confirmed, running, completed, failed, or expired once an unconfirmed token has run out), ' +
    'the preview, and the records of each kind deleted so far.',
  request: { params: DeletionRequestParams },
  responses: { 200: { description: 'The deletion request', content: { 'application/json': { schema: dataOf(DeletionRequest) } } } },
})

export const registerGetDeletionRequest = (api: Api) =>
  api.openapi(getDeletionRequestRoute, async (c) => {
    const { id } = c.req.valid('param')
    const request = await withTenant(tenantOf(c), (tx) => findRequest(tx, id))
    if (!request) throw notFound('Deletion request')
    return c.json({ data: request }, 200)
  })
