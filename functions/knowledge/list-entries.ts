import type { Context } from 'hono'
import type { Api, ApiEnv } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { environmentBase, refuseOtherProject } from './environment-base.ts'
import { listItems } from './item-queries.ts'
import { EntryQuery, KnowledgeItemSummary, ProjectParams } from './schemas.ts'

const declaration = {
  method: 'get' as const,
  scope: 'knowledge:read' as const,
  tags: ['Knowledge'],
  summary: "List an environment's knowledge entries",
  description:
    "The entries of the environment's default knowledge base, newest first, without their content, optionally of one " +
    '`namespace`; page with `next_cursor`. Empty until the first upload.',
  errors: {
    400: '`environment_id` is missing or not a UUID, or another parameter is invalid',
    404: 'The environment is not one of your organisation’s',
  },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: cursorPage(KnowledgeItemSummary) } } } },
}

export const listEntriesRoute = defineRoute({ ...declaration, path: '/knowledge/entries', request: { query: EntryQuery } })

export const listProjectEntriesRoute = defineRoute({
  ...declaration,
  path: '/projects/{org_id}/knowledge/entries',
  request: { params: ProjectParams, query: EntryQuery },
  errors: { ...declaration.errors, 404: 'The project is not your organisation, or the environment is not one of its' },
})

async function listEntries(c: Context<ApiEnv>, orgId: string | undefined, q: typeof EntryQuery._output) {
  const p = c.get('principal')
  refuseOtherProject(p, orgId)
  const rows = await withTenant(tenantOf(c), async (tx) => {
    const base = await environmentBase(tx, p, q.environment_id, { create: false })
    return base ? listItems(tx, base.id, q) : []
  })
  return c.json(pageOf(rows, q.limit), 200)
}

export const registerListEntries = (api: Api) => {
  api.openapi(listEntriesRoute, (c) => listEntries(c, undefined, c.req.valid('query')))
  api.openapi(listProjectEntriesRoute, (c) => listEntries(c, c.req.valid('param').org_id, c.req.valid('query')))
}
