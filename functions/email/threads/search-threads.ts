import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { embeddingsFromEnv } from '../../_core/embeddings/provider.ts'
import { readEnv } from '../../_core/env.ts'
import { defineRoute } from '../../_core/route.ts'
import { requireOneOf } from '../messages/schemas.ts'
import { searchThreads } from '../search/thread-search.ts'
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
    'With an embeddings provider configured the search is hybrid by default: threads close in meaning are found too, ' +
    "fused by rank with the keyword matches (`mode` chooses `vector` or `keyword` alone). An organisation's mail is embedded " +
    'from its first search by meaning on, by a background job, so new mail is found by meaning a moment after it arrives. ' +
    'Without a provider every search is by keyword, and `search_type` says which ran.',
  request: { query: ThreadSearchQuery },
  errors: { 502: 'A `vector` search whose query the embeddings provider failed to embed' },
  responses: { 200: { description: 'The matching threads', content: { 'application/json': { schema: ThreadSearchAnswer } } } },
})

export const registerSearchThreads = (api: Api) =>
  api.openapi(searchThreadsRoute, async (c) => {
    const q = c.req.valid('query')
    requireOneOf(q, ['inbox_id', 'domain_id'])
    return c.json(await searchThreads(tenantOf(c), embeddingsFromEnv(readEnv), q), 200)
  })
