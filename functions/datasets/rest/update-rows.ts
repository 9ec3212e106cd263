import { z } from '@hono/zod-openapi'
import { bodyless, type Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { preparePatch } from '../../_core/postgrest/row-values.ts'
import { rowQueryTimeoutMs, updateRows } from '../../_core/postgrest/rows.ts'
import { defineRoute } from '../../_core/route.ts'
import { Row } from '../schemas.ts'
import { checkMaxAffected, preferenceApplied, rowsResponse, singleRow, TableParams, tableFor, wireHeaders, writeFilter } from './wire.ts'

export const restUpdateRoute = defineRoute({
  method: 'patch',
  path: '/{table}',
  scope: 'datasets:write',
  tags: ['PostgREST surface'],
  summary: 'Update rows (PostgREST wire format)',
  description: "Merges the body into every row the filters match. A PATCH without a filter is refused, as Supabase's safeupdate does.",
  request: { params: TableParams, body: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  responses: {
    200: { description: 'The changed rows (return=representation)', content: { 'application/json': { schema: z.array(Row) } } },
    204: { description: 'Changed' },
  },
})

export const registerRestUpdate = (rest: Api) =>
  rest.openapi(restUpdateRoute, async (c) => {
    const { table } = c.req.valid('param')
    const body = c.req.valid('json')
    const { form, prefs } = wireHeaders(c, 'write')
    const { filter, select } = writeFilter(c.req.url, 'UPDATE')
    const representation = prefs.return === 'representation'
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await tableFor(tx, table, 'update')
        const result = await updateRows(tx, dataset, filter, preparePatch(dataset, body), representation ? select : 'count')
        checkMaxAffected(prefs, result.count)
        if (representation && form === 'object') singleRow(result.rows, result.count)
        return result
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    const total = prefs.count ? written.count : '*'
    const headers = {
      'Content-Range': written.count > 0 ? `0-${written.count - 1}/${total}` : `*/${total}`,
      ...preferenceApplied(prefs, ['return', 'count', 'handling', 'max-affected']),
    }
    if (!representation) return bodyless(c, 204, headers)
    return rowsResponse(c, written.rows, written.count, form, 200, headers)
  })
