import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { findThreadMetadata } from './queries.ts'
import { ThreadMetadata, ThreadParams } from './schemas.ts'

export const getThreadMetadataRoute = defineRoute({
  method: 'get',
  path: '/threads/{id}/metadata',
  scope: 'threads:read',
  tags: ['Threads'],
  summary: "Get a thread's triage state",
  description: 'Its tags, status and assignee.',
  request: { params: ThreadParams },
  responses: { 200: { description: 'The triage state', content: { 'application/json': { schema: dataOf(ThreadMetadata) } } } },
})

export const registerGetThreadMetadata = (api: Api) =>
  api.openapi(getThreadMetadataRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => findThreadMetadata(tx, id))
    if (!row) throw notFound('Thread')
    return c.json({ data: row }, 200)
  })
