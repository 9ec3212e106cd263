import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { preparePatch } from '../_core/postgrest/row-values.ts'
import { rowQueryTimeoutMs, updateRows } from '../_core/postgrest/rows.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetFor } from './queries.ts'
import { parseBulkFilter } from './row-request.ts'
import { BulkQueryParams, DatasetParams, RowPatch } from './schemas.ts'

export const updateRowsRoute = defineRoute({
  method: 'patch',
  path: '/datasets/{id}/rows',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Update the rows matching filters',
  description: 'Merges the given values into every row the filters match, and answers how many changed. Refused without a filter.',
  request: { params: DatasetParams, query: BulkQueryParams, body: { content: { 'application/json': { schema: RowPatch } } } },
  responses: {
    200: {
      description: 'How many rows changed',
      content: { 'application/json': { schema: dataOf(z.object({ updated: z.number().int() })) } },
    },
  },
})

export const registerUpdateRows = (api: Api) =>
  api.openapi(updateRowsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const filter = parseBulkFilter(c.req.url, 'update')
    const body = c.req.valid('json')
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await datasetFor(tx, id, 'update')
        return updateRows(tx, dataset, filter, preparePatch(dataset, body), 'count')
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    return c.json({ data: { updated: written.count } }, 200)
  })
