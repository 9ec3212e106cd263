import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { embeddingsFromEnv } from '../_core/embeddings/provider.ts'
import { readEnv } from '../_core/env.ts'
import { defineRoute } from '../_core/route.ts'
import { searchBase } from './search.ts'
import { QueryAnswer, QueryBody, searchRequestOf } from './search-schemas.ts'
import { BaseParams } from './schemas.ts'

export const queryBaseRoute = defineRoute({
  method: 'post',
  path: '/bases/{id}/query',
  scope: 'knowledge:read',
  readOnly: true,
  tags: ['Knowledge'],
  summary: 'Search a knowledge base',
  description:
    'The chunks that best answer `query`, each with its item, text and every score. `search_type` says what ran: ' +
    'without an embeddings provider, or in a base with no embeddings yet, every mode runs as keyword search.',
  request: { params: BaseParams, body: { content: { 'application/json': { schema: QueryBody } } } },
  errors: {
    409: 'The base is indexed with another embeddings model (or dimensions) than queries are embedded with',
    502: 'The embeddings provider failed to embed the query',
  },
  responses: { 200: { description: 'The best chunks, best first', content: { 'application/json': { schema: QueryAnswer } } } },
})

export const registerQueryBase = (api: Api) =>
  api.openapi(queryBaseRoute, async (c) => {
    const answer = await searchBase(
      { tenant: tenantOf(c), embeddings: embeddingsFromEnv(readEnv) },
      c.req.valid('param').id,
      searchRequestOf(c.req.valid('json')),
    )
    return c.json({ data: answer }, 200)
  })
