import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { PostgrestError } from '../../_core/errors.ts'
import { parseQueryString } from '../../_core/postgrest/parse.ts'
import { rowQueryTimeoutMs } from '../../_core/postgrest/rows.ts'
import { readCountedRows } from '../../_core/postgrest/estimate.ts'
import { defineRoute } from '../../_core/route.ts'
import { rawQuery } from '../row-request.ts'
import { Row } from '../schemas.ts'
import { contentRange, preferenceApplied, readWindow, rowsResponse, TableParams, tableFor, wireHeaders } from './wire.ts'

export const restReadRoute = defineRoute({
  method: 'get',
  path: '/{table}',
  scope: 'datasets:read',
  tags: ['PostgREST surface'],
  summary: 'Read rows (PostgREST wire format)',
  description:
    'The rows of the dataset named `table`, as PostgREST answers a table read: a JSON array (one object with ' +
    "`Accept: application/vnd.pgrst.object+json`), `Content-Range`, `Range` requests and `Prefer: count=exact|planned|estimated` (planned: the planner's estimate; estimated: exact up to " +
    'a threshold, the estimate above it). HEAD too.',
  request: { params: TableParams },
  responses: {
    200: { description: 'The rows', content: { 'application/json': { schema: z.array(Row) } } },
    206: {
      description: 'Part of the rows (a count was asked for and more rows match)',
      content: { 'application/json': { schema: z.array(Row) } },
    },
  },
})

export const registerRestRead = (rest: Api) =>
  rest.openapi(restReadRoute, async (c) => {
    const { table } = c.req.valid('param')
    const { form, prefs } = wireHeaders(c, 'read')
    const parsed = parseQueryString(rawQuery(c.req.url), { params: ['columns', 'on_conflict'] })
    const page = readWindow(parsed.limit, parsed.offset, c.req.header('range'))
    const query = { select: parsed.select, filters: parsed.filters, order: parsed.order }
    const { rows, returned, total, estimated } = await withTenant(
      tenantOf(c),
      async (tx) => readCountedRows(tx, await tableFor(tx, table, 'read'), query, page, prefs.count ?? null),
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    // An estimate may fall short of rows that exist: only a count can say that a range is past the end.
    if (total !== null && !estimated && page.offset > total) {
      throw new PostgrestError(
        416,
        'PGRST103',
        'Requested range not satisfiable',
        `An offset of ${page.offset} was requested, but there are only ${total} rows.`,
      )
    }
    const headers = { 'Content-Range': contentRange(page.offset, returned, total), ...preferenceApplied(prefs, ['count']) }
    return rowsResponse(c, rows, returned, form, total !== null && returned < total ? 206 : 200, headers)
  })
