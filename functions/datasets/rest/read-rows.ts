import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { PostgrestError } from '../../_core/errors.ts'
import { parseQueryString } from '../../_core/postgrest/parse.ts'
import { readRows, rowQueryTimeoutMs } from '../../_core/postgrest/rows.ts'
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
    '`Accept: application/vnd.pgrst.object+json`), `Content-Range`, `Range` requests and `Prefer: count=exact`. HEAD too.',
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
    const { rows, returned, total } = await withTenant(
      tenantOf(c),
      async (tx) => readRows(tx, await tableFor(tx, table, 'read'), query, page, prefs.count !== undefined),
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    if (total !== null && page.offset > total) {
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
