import type { Context } from 'hono'
import type { Api, ApiEnv } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { environmentBase, refuseOtherProject } from './environment-base.ts'
import { deleteItem, findEntry } from './item-queries.ts'
import { EntryParams, EnvironmentQuery, KnowledgeItem, ProjectParams } from './schemas.ts'

const declaration = {
  method: 'delete' as const,
  scope: 'knowledge:write' as const,
  tags: ['Knowledge'],
  summary: "Delete an environment's knowledge entry",
  description: "Deletes the entry with this `entry_id` from the environment's default knowledge base, with its chunks.",
  errors: {
    400: '`environment_id` is missing or not a UUID',
    404: 'The environment is not one of your organisation’s, or it has no entry with this id',
  },
  responses: { 200: { description: 'The deleted entry', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } } },
}

export const deleteEntryRoute = defineRoute({
  ...declaration,
  path: '/knowledge/entries/{entry_id}',
  request: { params: EntryParams, query: EnvironmentQuery },
})

export const deleteProjectEntryRoute = defineRoute({
  ...declaration,
  path: '/projects/{org_id}/knowledge/entries/{entry_id}',
  request: { params: ProjectParams.extend(EntryParams.shape), query: EnvironmentQuery },
  errors: { ...declaration.errors, 404: 'The project is not your organisation, the environment not one of its, or no such entry' },
})

async function deleteEntry(c: Context<ApiEnv>, orgId: string | undefined, entryId: string, environmentId: string) {
  const p = c.get('principal')
  refuseOtherProject(p, orgId)
  const item = await withTenant(tenantOf(c), async (tx) => {
    const base = await environmentBase(tx, p, environmentId, { create: false })
    const entry = base && (await findEntry(tx, base.id, entryId))
    return entry ? deleteItem(tx, entry.base_id, entry.id) : undefined
  })
  if (!item) throw notFound('Entry')
  return c.json({ data: item }, 200)
}

export const registerDeleteEntry = (api: Api) => {
  api.openapi(deleteEntryRoute, (c) => deleteEntry(c, undefined, c.req.valid('param').entry_id, c.req.valid('query').environment_id))
  api.openapi(deleteProjectEntryRoute, (c) => {
    const { org_id: orgId, entry_id: entryId } = c.req.valid('param')
    return deleteEntry(c, orgId, entryId, c.req.valid('query').environment_id)
  })
}
