import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetJson, findDataset } from './queries.ts'
import { Dataset, DatasetParams } from './schemas.ts'

export const getDatasetRoute = defineRoute({
  method: 'get',
  path: '/datasets/{id}',
  scope: 'datasets:read',
  tags: ['Datasets'],
  summary: 'Get a dataset',
  request: { params: DatasetParams },
  responses: { 200: { description: 'The dataset', content: { 'application/json': { schema: dataOf(Dataset) } } } },
})

export const registerGetDataset = (api: Api) =>
  api.openapi(getDatasetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const dataset = await withTenant(tenantOf(c), (tx) => findDataset(tx, id))
    if (!dataset) throw notFound('Dataset')
    return c.json({ data: datasetJson(dataset) }, 200)
  })
