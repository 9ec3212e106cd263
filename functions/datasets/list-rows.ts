import { jsonText, type Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { fieldLabel } from '../_core/postgrest/fields.ts'
import { selectedColumns } from '../_core/postgrest/select-order.ts'
import { readDistinct, rowQueryTimeoutMs } from '../_core/postgrest/rows.ts'
import { readCountedRows } from '../_core/postgrest/estimate.ts'
import { defineRoute } from '../_core/route.ts'
import { datasetFor } from './queries.ts'
import { parseRowRequest } from './row-request.ts'
import { DatasetParams, RowPage, RowQueryParams } from './schemas.ts'

export const listRowsRoute = defineRoute({
  method: 'get',
  path: '/datasets/{id}/rows',
  scope: 'datasets:read',
  tags: ['Datasets'],
  summary: 'Query rows',
  description:
    'Rows matching PostgREST-style filters, as `{ rows, total, columns }`; `total` counts every matching row, not the page. ' +
    'With `distinct=<column>`: the distinct values among the matching rows and how often each occurs, ' +
    'as `{ values, total_unique, column }`. ' +
    "With `count=estimated`: the planner's estimate instead of a count when it is above a threshold (10,000 rows by default), " +
    'with `total_estimated: true`; `count=planned`: always the estimate. ' +
    'A malformed query answers `invalid_query` with where it went wrong.',
  request: { params: DatasetParams, query: RowQueryParams },
  responses: { 200: { description: 'A page of rows, or distinct values', content: { 'application/json': { schema: RowPage } } } },
})

export const registerListRows = (api: Api) =>
  api.openapi(listRowsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const { query, page, distinct, count } = parseRowRequest(c.req.url)
    const body = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await datasetFor(tx, id, 'read')
        if (distinct) {
          const { values, totalUnique } = await readDistinct(tx, dataset, distinct, query, page)
          return `{"data":{"values":${values},"total_unique":${totalUnique},"column":${JSON.stringify(fieldLabel(distinct))}}}`
        }
        const { rows, total, estimated } = await readCountedRows(tx, dataset, query, page, count)
        const flag = count === 'exact' ? '' : `,"total_estimated":${estimated}`
        return `{"data":{"rows":${rows},"total":${total}${flag},"columns":${JSON.stringify(selectedColumns(dataset, query.select))}}}`
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    // The rows arrive from PostgreSQL as JSON text, shaped and ordered: passed on without a parse.
    return jsonText(c, body, 200)
  })
