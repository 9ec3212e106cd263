import { jsonText, type Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { rowIdFilter } from '../_core/postgrest/statements.ts'
import { preparePatch } from '../_core/postgrest/row-values.ts'
import { rowQueryTimeoutMs, updateRows } from '../_core/postgrest/rows.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetFor } from './queries.ts'
import { rowIdFrom } from './row-request.ts'
import { Row, RowParams, RowPatch } from './schemas.ts'

export const updateRowRoute = defineRoute({
  method: 'patch',
  path: '/datasets/{id}/rows/{rowId}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Update a row',
  description: 'Merges the given values into the row: keys given replace their values, the others stay as they are.',
  request: { params: RowParams, body: { content: { 'application/json': { schema: RowPatch } } } },
  responses: { 200: { description: 'The row as stored', content: { 'application/json': { schema: dataOf(Row) } } } },
})

export const registerUpdateRow = (api: Api) =>
  api.openapi(updateRowRoute, async (c) => {
    const params = c.req.valid('param')
    const rowId = rowIdFrom(params.rowId)
    const body = c.req.valid('json')
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await datasetFor(tx, params.id, 'update')
        return updateRows(tx, dataset, { filters: [rowIdFilter(rowId)] }, preparePatch(dataset, body))
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    if (written.count === 0) throw new ApiError('row_not_found', `No row ${rowId} in this dataset.`)
    return jsonText(c, `{"data":${written.rows.slice(1, -1)}}`, 200)
  })
