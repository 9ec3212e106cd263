import { z } from '@hono/zod-openapi'
import { bodyless, type Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { deleteRows, rowQueryTimeoutMs } from '../../_core/postgrest/rows.ts'
import { defineRoute } from '../../_core/route.ts'
import { Row } from '../schemas.ts'
import { checkMaxAffected, preferenceApplied, rowsResponse, singleRow, TableParams, tableFor, wireHeaders, writeFilter } from './wire.ts'

export const restDeleteRoute = defineRoute({
  method: 'delete',
  path: '/{table}',
  scope: 'datasets:write',
  tags: ['PostgREST surface'],
  summary: 'Delete rows (PostgREST wire format)',
  description: "Deletes every row the filters match. A DELETE without a filter is refused, as Supabase's safeupdate does.",
  request: { params: TableParams },
  responses: {
    200: { description: 'The deleted rows (return=representation)', content: { 'application/json': { schema: z.array(Row) } } },
    204: { description: 'Deleted' },
  },
})

export const registerRestDelete = (rest: Api) =>
  rest.openapi(restDeleteRoute, async (c) => {
    const { table } = c.req.valid('param')
    const { form, prefs } = wireHeaders(c, 'write')
    const { filter, select } = writeFilter(c.req.url, 'DELETE')
    const representation = prefs.return === 'representation'
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const result = await deleteRows(tx, await tableFor(tx, table, 'delete'), filter, representation ? select : 'count')
        checkMaxAffected(prefs, result.count)
        if (representation && form === 'object') singleRow(result.rows, result.count)
        return result
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    const headers = {
      'Content-Range': `*/${prefs.count ? written.count : '*'}`,
      ...preferenceApplied(prefs, ['return', 'count', 'handling', 'max-affected']),
    }
    if (!representation) return bodyless(c, 204, headers)
    return rowsResponse(c, written.rows, written.count, form, 200, headers)
  })
