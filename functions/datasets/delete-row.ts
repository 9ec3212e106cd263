import { jsonText, type Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { rowIdFilter } from '../_core/postgrest/statements.ts'
import { deleteRows, rowQueryTimeoutMs } from '../_core/postgrest/rows.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetFor } from './queries.ts'
import { rowIdFrom } from './row-request.ts'
import { Row, RowParams } from './schemas.ts'

export const deleteRowRoute = defineRoute({
  method: 'delete',
  path: '/datasets/{id}/rows/{rowId}',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Delete a row',
  description: 'Answers with the row as it was.',
  request: { params: RowParams },
  responses: { 200: { description: 'The deleted row', content: { 'application/json': { schema: dataOf(Row) } } } },
})

export const registerDeleteRow = (api: Api) =>
  api.openapi(deleteRowRoute, async (c) => {
    const params = c.req.valid('param')
    const rowId = rowIdFrom(params.rowId)
    const written = await withTenant(
      tenantOf(c),
      async (tx) => deleteRows(tx, await datasetFor(tx, params.id, 'delete'), { filters: [rowIdFilter(rowId)] }),
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    if (written.count === 0) throw new ApiError('row_not_found', `No row ${rowId} in this dataset.`)
    return jsonText(c, `{"data":${written.rows.slice(1, -1)}}`, 200)
  })
