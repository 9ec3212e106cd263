import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { removeThreadTags } from './queries.ts'
import { TagsBody, ThreadMetadata, ThreadParams } from './schemas.ts'

export const removeThreadTagsRoute = defineRoute({
  method: 'delete',
  path: '/threads/{id}/tags',
  scope: 'threads:write',
  tags: ['Threads'],
  summary: 'Remove tags from a thread',
  description: 'Removes the tags named (sent as `{ "tags": [...] }`) and keeps the others; naming a tag the thread lacks changes nothing.',
  request: { params: ThreadParams, body: { content: { 'application/json': { schema: TagsBody } } } },
  responses: { 200: { description: 'The triage state', content: { 'application/json': { schema: dataOf(ThreadMetadata) } } } },
})

export const registerRemoveThreadTags = (api: Api) =>
  api.openapi(removeThreadTagsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => removeThreadTags(tx, id, c.req.valid('json').tags))
    if (!row) throw notFound('Thread')
    return c.json({ data: row }, 200)
  })
