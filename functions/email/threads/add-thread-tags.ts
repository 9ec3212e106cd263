import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { addThreadTags } from './queries.ts'
import { maxTags, TagsBody, ThreadMetadata, ThreadParams } from './schemas.ts'

export const addThreadTagsRoute = defineRoute({
  method: 'post',
  path: '/threads/{id}/tags',
  scope: 'threads:write',
  tags: ['Threads'],
  summary: 'Add tags to a thread',
  description: `Adds the tags the thread lacks and keeps those it has; adding a tag twice changes nothing. A tag has 1 to 50 characters, a thread at most ${maxTags} tags.`,
  request: { params: ThreadParams, body: { content: { 'application/json': { schema: TagsBody } } } },
  responses: { 200: { description: 'The triage state', content: { 'application/json': { schema: dataOf(ThreadMetadata) } } } },
})

export const registerAddThreadTags = (api: Api) =>
  api.openapi(addThreadTagsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const added = await withTenant(tenantOf(c), (tx) => addThreadTags(tx, id, c.req.valid('json').tags, maxTags))
    if (added.tooMany) {
      const message = `A thread holds at most ${maxTags} tags; remove some first.`
      throw new ApiError('validation_failed', `Invalid request: tags: ${message}`, { fields: [{ field: 'tags', message }] })
    }
    if (!added.row) throw notFound('Thread')
    return c.json({ data: added.row }, 200)
  })
