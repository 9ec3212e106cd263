import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { declaredIndexes, withIndexes } from './indexes.ts'
import { datasetJson, findDataset, firstMisfitRow, updateDataset, whenTableBusy } from './queries.ts'
import { Dataset, DatasetParams, UpdateDatasetBody } from './schemas.ts'

export const updateDatasetRoute = defineRoute({
  method: 'patch',
  path: '/datasets/{id}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Update a dataset',
  description:
    'Rename it, describe it, lock or unlock operations, or replace its columns. A change to the columns or to `open` is ' +
    'refused with `validation_failed`, naming a row, when stored rows would not fit it.',
  request: { params: DatasetParams, body: { content: { 'application/json': { schema: UpdateDatasetBody } } } },
  errors: { 409: "A dataset with the new name exists, or the dataset's rows stayed in use while its columns were changing" },
  responses: { 200: { description: 'The dataset', content: { 'application/json': { schema: dataOf(Dataset) } } } },
})

export const registerUpdateDataset = (api: Api) =>
  api.openapi(updateDatasetRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { indexes: declared, ...body } = c.req.valid('json')
    const dataset = await withTenant(tenantOf(c), async (tx) => {
      const current = await findDataset(tx, id)
      if (!current) throw notFound('Dataset')
      if (body.columns !== undefined || body.open !== undefined) {
        const columns = body.columns ?? current.columns
        const misfit = await firstMisfitRow(tx, id, columns, body.open ?? current.open)
        if (misfit) {
          throw new ApiError(
            'validation_failed',
            `Invalid request: row ${misfit.id} ${misfit.problem} ("${misfit.column}"); change or delete it first.`,
            {
              fields: [{ field: body.columns !== undefined ? 'columns' : 'open', message: `row ${misfit.id} does not fit` }],
            },
          )
        }
      }
      // Indexes are checked against the columns the dataset will have, whichever of the two changes.
      const indexes =
        declared !== undefined || body.columns !== undefined
          ? declaredIndexes(declared ?? current.indexes.map((i) => i.columns), body.columns ?? current.columns)
          : null
      const changes = { ...body, ...(body.locked ? { locked: [...new Set(body.locked)] } : {}) }
      return updateDataset(tx, id, changes)
        .then((updated) => (updated && indexes ? withIndexes(tx, updated, indexes) : updated))
        .catch((error: { code?: string }) => {
          if (error.code === '23505') throw new ApiError('conflict', `A dataset named "${body.name}" already exists in this organisation.`)
          return whenTableBusy(error)
        })
    })
    if (!dataset) throw notFound('Dataset')
    return c.json({ data: datasetJson(dataset) }, 200)
  })
