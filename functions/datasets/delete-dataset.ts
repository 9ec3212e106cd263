import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetJson, deleteDataset, whenTableBusy } from './queries.ts'
import { Dataset, DatasetParams } from './schemas.ts'

export const deleteDatasetRoute = defineRoute({
  method: 'delete',
  path: '/datasets/{id}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Delete a dataset',
  description:
    'Deletes the dataset and all its rows, its table and all, without holding up any other dataset. Answers with the ' +
    'dataset as it was.',
  request: { params: DatasetParams },
  errors: { 409: "The dataset's rows stayed in use by a long request; try again in a moment" },
  responses: { 200: { description: 'The deleted dataset', content: { 'application/json': { schema: dataOf(Dataset) } } } },
})

export const registerDeleteDataset = (api: Api) =>
  api.openapi(deleteDatasetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const dataset = await withTenant(tenantOf(c), (tx) => deleteDataset(tx, id).catch(whenTableBusy))
    if (!dataset) throw notFound('Dataset')
    return c.json({ data: datasetJson(dataset) }, 200)
  })
