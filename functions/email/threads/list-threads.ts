import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { pageOf } from '../../_core/paging.ts'
import { defineRoute } from '../../_core/route.ts'
import { cursorPage } from '../../_core/schemas.ts'
import { requireOneOf } from '../messages/schemas.ts'
import { listThreads } from './queries.ts'
import { Thread, ThreadQuery } from './schemas.ts'

export const listThreadsRoute = defineRoute({
  method: 'get',
  path: '/threads',
  scope: 'threads:read',
  tags: ['Threads'],
  summary: 'List threads',
  description:
    'The threads of one inbox (`inbox_id`) or of every inbox on a domain (`domain_id`), one of which is required; ' +
    'by last message, newest first (`order=desc`, the default) or oldest first; page with `next_cursor`.',
  request: { query: ThreadQuery },
  responses: { 200: { description: 'A page of threads', content: { 'application/json': { schema: cursorPage(Thread) } } } },
})

export const registerListThreads = (api: Api) =>
  api.openapi(listThreadsRoute, async (c) => {
    const q = c.req.valid('query')
    requireOneOf(q, ['inbox_id', 'domain_id'])
    const rows = await withTenant(tenantOf(c), (tx) => listThreads(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
