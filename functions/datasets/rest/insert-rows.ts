import { z } from '@hono/zod-openapi'
import { bodyless, type Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError, PostgrestError } from '../../_core/errors.ts'
import { parseColumnList, parseQueryString } from '../../_core/postgrest/parse.ts'
import { prepareNewRows } from '../../_core/postgrest/row-values.ts'
import { insertRows, rowQueryTimeoutMs } from '../../_core/postgrest/rows.ts'
import { defineRoute } from '../../_core/route.ts'
import type { DatasetRow } from '../queries.ts'
import { rawQuery } from '../row-request.ts'
import { Row } from '../schemas.ts'
import { preferenceApplied, rowsResponse, singleRow, TableParams, tableFor, wireHeaders } from './wire.ts'

export const restInsertRoute = defineRoute({
  method: 'post',
  path: '/{table}',
  scope: 'datasets:write',
  tags: ['PostgREST surface'],
  summary: 'Insert or upsert rows (PostgREST wire format)',
  description:
    'One object or an array. `Prefer: return=representation` answers the stored rows (shaped by `select`), ' +
    '`resolution=merge-duplicates` / `ignore-duplicates` upserts on the row id, `?columns=` picks the keys read.',
  request: {
    params: TableParams,
    body: {
      content: { 'application/json': { schema: z.union([z.array(z.record(z.string(), z.unknown())), z.record(z.string(), z.unknown())]) } },
    },
  },
  responses: {
    201: { description: 'Stored (the rows with return=representation)', content: { 'application/json': { schema: z.array(Row) } } },
  },
})

export const registerRestInsert = (rest: Api) =>
  rest.openapi(restInsertRoute, async (c) => {
    const { table } = c.req.valid('param')
    const body = c.req.valid('json')
    const { form, prefs } = wireHeaders(c, 'write')
    const parsed = parseQueryString(rawQuery(c.req.url), { params: ['columns', 'on_conflict'] })
    if (parsed.params.on_conflict !== undefined) {
      const target = parseColumnList(parsed.params.on_conflict, 'on_conflict parameter')
      if (target.length !== 1 || target[0] !== 'id') {
        throw new ApiError(
          'invalid_query',
          'on_conflict on a dataset can only name the row id (on_conflict=id): it is the one unique key rows have.',
        )
      }
    }
    const columns = parsed.params.columns === undefined ? null : parseColumnList(parsed.params.columns, 'columns parameter')
    const representation = prefs.return === 'representation'
    const headersOnly = prefs.return === 'headers-only'
    const written = await withTenant(
      tenantOf(c),
      async (tx) => {
        const dataset = await tableFor(tx, table, 'insert')
        const rows = prepareNewRows(dataset, columns ? pickColumns(dataset, body, columns) : body)
        const result = await insertRows(tx, dataset, rows, {
          onConflict: prefs.resolution === 'merge-duplicates' ? 'merge' : prefs.resolution === 'ignore-duplicates' ? 'ignore' : null,
          returning: representation ? parsed.select : headersOnly ? [idItem] : 'count',
        })
        // Checked before the transaction ends, so a refused answer also undoes the write.
        if (representation && form === 'object') singleRow(result.rows, result.count)
        return result
      },
      { statementTimeoutMs: rowQueryTimeoutMs },
    )
    const headers: Record<string, string> = {
      'Content-Range': `*/${prefs.count ? written.count : '*'}`,
      ...preferenceApplied(prefs, ['resolution', 'missing', 'return', 'count']),
    }
    if (headersOnly && written.count > 0) {
      const [first] = JSON.parse(written.rows) as { id: string }[]
      headers.Location = `/${encodeURIComponent(table)}?id=eq.${first.id}`
    }
    if (!representation) return bodyless(c, 201, headers)
    return rowsResponse(c, written.rows, written.count, form, 201, headers)
  })

const idItem = { type: 'field' as const, field: { name: 'id', path: [] }, alias: null, cast: null, key: 'id' }

/** `?columns=a,b`: only these keys of each object are read; each must be a column the dataset can hold. */
function pickColumns(dataset: DatasetRow, body: unknown, columns: string[]): unknown {
  for (const name of columns) {
    if (name !== 'id' && !dataset.open && !dataset.columns.some((col) => col.name === name)) {
      throw new PostgrestError(400, 'PGRST204', `Could not find the '${name}' column of '${dataset.name}' in the schema cache`)
    }
  }
  const pick = (row: unknown) =>
    typeof row === 'object' && row !== null && !Array.isArray(row)
      ? Object.fromEntries(Object.entries(row).filter(([key]) => columns.includes(key)))
      : row
  return Array.isArray(body) ? body.map(pick) : pick(body)
}
