import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { deleteRows, rowQueryTimeoutMs } from '../_core/postgrest/rows.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { datasetFor } from './queries.ts'
import { parseBulkFilter } from './row-request.ts'
import { BulkQueryParams, DatasetParams } from './schemas.ts'

export const deleteRowsRoute = defineRoute({
  method: 'delete',
  path: '/datasets/{id}/rows',
  scope: 'datasets:write',
  tags: ['Datasets'],
  summary: 'Delete the rows matching filters',
  description: 'Deletes every row the filters match and answers how many. Refused without a filter.',
  request: { params: DatasetParams, query: BulkQueryParams },
  responses: {
    200: {
      description: 'How many rows were deleted',
      content: { 'application/json': { schema: dataOf(z.object({ deleted: z.number().int() })) } },
    },
  },
})

export const registerDeleteRows = (api: Api) =>
  api.openapi(deleteRowsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const filter = parseBulkFilter(c.req.url, 'delete')
    const written = await withTenant(tenantOf(c), async (tx) => deleteRows(tx, await datasetFor(tx, id, 'delete'), filter, 'count'), {
      statementTimeoutMs: rowQueryTimeoutMs,
    })
    return c.json({ data: { deleted: written.count } }, 200)
  })
