import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { setThreadStatus } from './queries.ts'
import { StatusBody, ThreadMetadata, ThreadParams } from './schemas.ts'

export const setThreadStatusRoute = defineRoute({
  method: 'put',
  path: '/threads/{id}/status',
  scope: 'threads:write',
  tags: ['Threads'],
  summary: "Set a thread's status",
  description: '`open`, `needs_reply`, `waiting` or `closed`. Mail arriving in a closed thread reopens it as `needs_reply`.',
  request: { params: ThreadParams, body: { content: { 'application/json': { schema: StatusBody } } } },
  responses: { 200: { description: 'The triage state', content: { 'application/json': { schema: dataOf(ThreadMetadata) } } } },
})

export const registerSetThreadStatus = (api: Api) =>
  api.openapi(setThreadStatusRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => setThreadStatus(tx, id, c.req.valid('json').status))
    if (!row) throw notFound('Thread')
    return c.json({ data: row }, 200)
  })
