import { z } from '@hono/zod-openapi'
import { jsonText, type Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { prepareNewRows } from '../_core/postgrest/row-values.ts'
import { insertRows, rowQueryTimeoutMs } from '../_core/postgrest/rows.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetFor } from './queries.ts'
import { DatasetParams, NewRows, Row } from './schemas.ts'

export const insertRowsRoute = defineRoute({
  method: 'post',
  path: '/datasets/{id}/rows',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Insert rows',
  description:
    'One row object or an array of up to 1000, stored in order, all or none. Values are checked against the column types; ' +
    'a value that does not fit answers `validation_failed` naming the row and the column.',
  request: { params: DatasetParams, body: { content: { 'application/json': { schema: NewRows } } } },
  errors: { 409: 'A row with the same id exists in the dataset' },
  responses: { 201: { description: 'The stored rows', content: { 'application/json': { schema: dataOf(z.array(Row)) } } } },
})

export const registerInsertRows = (api: Api) =>
  api.openapi(insertRowsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await datasetFor(tx, id, 'insert')
        return insertRows(tx, dataset, prepareNewRows(dataset, body))
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    return jsonText(c, `{"data":${written.rows}}`, 201)
  })
