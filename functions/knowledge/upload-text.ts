import type { Context } from 'hono'
import type { Api, ApiEnv } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { environmentBase, refuseOtherProject } from './environment-base.ts'
import { findEntry, insertItem, updateItem } from './item-queries.ts'
import { EnvironmentQuery, KnowledgeItem, ProjectParams, UploadTextBody } from './schemas.ts'

const declaration = {
  method: 'post' as const,
  scope: 'knowledge:write' as const,
  tags: ['Knowledge'],
  summary: "Upload text to an environment's knowledge",
  description:
    "Connic's upload: the text goes into the environment's default knowledge base (made on first use). With an " +
    '`entry_id`, it replaces the entry with that id. Answers at once with `status: "queued"`; GET /bases/{id}/items/{itemId} ' +
    'shows indexing progress.',
  errors: {
    400: 'The body fails validation, or `environment_id` is missing or not a UUID',
    404: 'The environment is not one of your organisation’s',
    409: 'Another upload made an entry with the same `entry_id` at the same moment; send it again to replace that one',
  },
  responses: {
    200: { description: 'The entry, replaced and queued for indexing', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } },
    201: { description: 'The new entry, queued for indexing', content: { 'application/json': { schema: dataOf(KnowledgeItem) } } },
  },
}

export const uploadTextRoute = defineRoute({
  ...declaration,
  path: '/knowledge/text',
  request: { query: EnvironmentQuery, body: { content: { 'application/json': { schema: UploadTextBody } } } },
})

export const uploadProjectTextRoute = defineRoute({
  ...declaration,
  path: '/projects/{org_id}/knowledge/text',
  request: { params: ProjectParams, query: EnvironmentQuery, body: { content: { 'application/json': { schema: UploadTextBody } } } },
  errors: { ...declaration.errors, 404: 'The project is not your organisation, or the environment is not one of its' },
})

async function uploadText(c: Context<ApiEnv>, orgId: string | undefined, environmentId: string, body: typeof UploadTextBody._output) {
  const p = c.get('principal')
  refuseOtherProject(p, orgId)
  const fields = { content: body.content, content_type: 'text' as const, namespace: body.namespace }
  const { item, replaced } = await withTenant(tenantOf(c), async (tx) => {
    const base = await environmentBase(tx, p, environmentId, { create: true })
    if (!base) throw new Error('the default knowledge base was neither found nor made')
    const previous = body.entry_id ? await findEntry(tx, base.id, body.entry_id) : undefined
    if (previous) return { item: await updateItem(tx, previous, fields), replaced: true }
    return { item: await insertItem(tx, p.orgId, base.id, { ...fields, entry_id: body.entry_id }), replaced: false }
  })
  return c.json({ data: item }, replaced ? 200 : 201)
}

export const registerUploadText = (api: Api) => {
  api.openapi(uploadTextRoute, (c) => uploadText(c, undefined, c.req.valid('query').environment_id, c.req.valid('json')))
  api.openapi(uploadProjectTextRoute, (c) =>
    uploadText(c, c.req.valid('param').org_id, c.req.valid('query').environment_id, c.req.valid('json')),
  )
}
