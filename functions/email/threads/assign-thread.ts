import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { assignThread } from './queries.ts'
import { AssignBody, ThreadMetadata, ThreadParams } from './schemas.ts'

export const assignThreadRoute = defineRoute({
  method: 'put',
  path: '/threads/{id}/assign',
  scope: 'threads:write',
  tags: ['Threads'],
  summary: 'Assign a thread',
  description: 'Names who handles the thread (`assigned_to`, up to 200 characters); `null` unassigns it.',
  request: { params: ThreadParams, body: { content: { 'application/json': { schema: AssignBody } } } },
  responses: { 200: { description: 'The triage state', content: { 'application/json': { schema: dataOf(ThreadMetadata) } } } },
})

export const registerAssignThread = (api: Api) =>
  api.openapi(assignThreadRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => assignThread(tx, id, c.req.valid('json').assigned_to))
    if (!row) throw notFound('Thread')
    return c.json({ data: row }, 200)
  })
