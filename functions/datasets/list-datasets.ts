import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetJson, listDatasets } from './queries.ts'
import { Dataset } from './schemas.ts'

export const listDatasetsRoute = defineRoute({
  method: 'get',
  path: '/datasets',
  scope: 'datasets:read',
  tags: ['Datasets'],
  summary: 'List datasets',
  description: "Every dataset of the organisation, oldest first; an agent key sees its own agent's datasets only.",
  responses: { 200: { description: 'The datasets', content: { 'application/json': { schema: dataOf(z.array(Dataset)) } } } },
})

export const registerListDatasets = (api: Api) =>
  api.openapi(listDatasetsRoute, async (c) => {
    const datasets = await withTenant(tenantOf(c), (tx) => listDatasets(tx))
    return c.json({ data: datasets.map(datasetJson) }, 200)
  })
