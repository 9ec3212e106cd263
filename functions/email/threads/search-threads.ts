import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { requireOneOf } from '../messages/schemas.ts'
import { searchThreads } from './queries.ts'
import { ThreadSearchAnswer, ThreadSearchQuery } from './schemas.ts'

export const searchThreadsRoute = defineRoute({
  method: 'get',
  path: '/search/threads',
  scope: 'threads:read',
  tags: ['Threads'],
  summary: 'Search threads',
  description:
    'Threads of one inbox (`inbox_id`) or of every inbox on a domain (`domain_id`) whose messages match `q` in their subject, ' +
    'sender or new text, best first, each ranked by its best message. Threads holding every word come first; when fewer ' +
    'than `limit` do, threads holding any of them follow. Web-search syntax: `"a phrase"`, `-excluded`, `or`. ' +
    'Keyword search only for now (`search_type: keyword`): searching email by meaning (vector and hybrid) comes later.',
  request: { query: ThreadSearchQuery },
  responses: { 200: { description: 'The matching threads', content: { 'application/json': { schema: ThreadSearchAnswer } } } },
})

export const registerSearchThreads = (api: Api) =>
  api.openapi(searchThreadsRoute, async (c) => {
    const q = c.req.valid('query')
    requireOneOf(q, ['inbox_id', 'domain_id'])
    const rows = await withTenant(tenantOf(c), (tx) => searchThreads(tx, q))
    return c.json({ data: rows, search_type: 'keyword' as const }, 200)
  })
