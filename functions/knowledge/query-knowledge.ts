import type { Context } from 'hono'
import type { Api, ApiEnv } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { embeddingsFromEnv } from '../_core/embeddings/provider.ts'
import { readEnv } from '../_core/env.ts'
import { defineRoute } from '../_core/route.ts'
import { environmentBase, refuseOtherProject } from './environment-base.ts'
import { type SearchAnswer, searchBase } from './search.ts'
import { EnvironmentQueryBody, QueryAnswer, searchRequestOf } from './search-schemas.ts'
import { EnvironmentQuery, ProjectParams } from './schemas.ts'

const declaration = {
  method: 'post' as const,
  scope: 'knowledge:read' as const,
  readOnly: true as const,
  tags: ['Knowledge'],
  summary: "Search an environment's knowledge",
  description:
    "Searches the environment's default knowledge base (filled by POST /knowledge/text) as POST /bases/{id}/query does; " +
    'an environment with nothing uploaded yet answers no results.',
  errors: {
    400: '`environment_id` is missing or not a UUID, or the body fails validation',
    404: 'The environment is not one of your organisation’s',
    409: 'The base is indexed with another embeddings model (or dimensions) than queries are embedded with',
    502: 'The embeddings provider failed to embed the query',
  },
  responses: { 200: { description: 'The best chunks, best first', content: { 'application/json': { schema: QueryAnswer } } } },
}

const body = { content: { 'application/json': { schema: EnvironmentQueryBody } } }

export const queryKnowledgeRoute = defineRoute({
  ...declaration,
  path: '/knowledge/query',
  request: { query: EnvironmentQuery, body },
})

export const queryProjectKnowledgeRoute = defineRoute({
  ...declaration,
  path: '/projects/{org_id}/knowledge/query',
  request: { params: ProjectParams, query: EnvironmentQuery, body },
  errors: { ...declaration.errors, 404: 'The project is not your organisation, or the environment not one of its' },
})

async function queryEnvironment(
  c: Context<ApiEnv>,
  orgId: string | undefined,
  environmentId: string,
  input: typeof EnvironmentQueryBody._output,
) {
  const p = c.get('principal')
  refuseOtherProject(p, orgId)
  const tenant = tenantOf(c)
  const base = await withTenant(tenant, (tx) => environmentBase(tx, p, environmentId, { create: false }))
  const request = searchRequestOf(input)
  const answer: SearchAnswer = base
    ? await searchBase({ tenant, embeddings: embeddingsFromEnv(readEnv) }, base.id, request)
    : { search_type: 'keyword', results: [] }
  return c.json({ data: answer }, 200)
}

export const registerQueryKnowledge = (api: Api) => {
  api.openapi(queryKnowledgeRoute, (c) => queryEnvironment(c, undefined, c.req.valid('query').environment_id, c.req.valid('json')))
  api.openapi(queryProjectKnowledgeRoute, (c) =>
    queryEnvironment(c, c.req.valid('param').org_id, c.req.valid('query').environment_id, c.req.valid('json')),
  )
}
