// PostgREST's wire conventions, as postgrest-js (supabase-js) relies on them: schema profiles, the Accept
// forms for one object, the Prefer header, Range and Content-Range, and datasets addressed as tables.
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { jsonText } from '../../_core/server.ts'
import type { Tx } from '../../_core/db.ts'
import { ApiError, PostgrestError } from '../../_core/errors.ts'
import type { SelectItem } from '../../_core/postgrest/ast.ts'
import type { RowFilter } from '../../_core/postgrest/filters.ts'
import { parseQueryString } from '../../_core/postgrest/parse.ts'
import { findDatasetByName, refuseIfLocked, type DatasetRow } from '../queries.ts'
import { rawQuery } from '../row-request.ts'
import type { LockableOperation } from '../schemas.ts'

/** The one schema this surface exposes, as supabase-js names it by default. */
export const exposedSchema = 'public'
/** The most rows one read returns, like PostgREST's db-max-rows. */
export const maxRows = 1000

export const TableParams = z.object({
  table: z
    .string()
    .min(1)
    .openapi({ param: { name: 'table', in: 'path' }, description: "The dataset's name (or id)." }),
})

/** The dataset a table name means for this caller, open to the operation. */
export async function tableFor(tx: Tx, name: string, operation: LockableOperation): Promise<DatasetRow> {
  const dataset = await findDatasetByName(tx, name)
  if (!dataset) throw new PostgrestError(404, 'PGRST205', `Could not find the table '${exposedSchema}.${name}' in the schema cache`)
  refuseIfLocked(dataset, operation)
  return dataset
}

/**
 * What every request declares in its headers: the schema (`Accept-Profile` on reads, `Content-Profile` on
 * writes), the form it wants back (`Accept`) and its preferences (`Prefer`).
 */
export function wireHeaders(c: Context, direction: 'read' | 'write'): { form: 'array' | 'object'; prefs: Preferences } {
  checkProfile(c.req.header(direction === 'read' ? 'accept-profile' : 'content-profile'))
  return { form: acceptedForm(c.req.header('accept')), prefs: parsePrefer(c.req.header('prefer')) }
}

/** `Accept-Profile` (reads) and `Content-Profile` (writes) may only name the exposed schema. */
function checkProfile(profile: string | undefined) {
  if (profile !== undefined && profile.trim() !== exposedSchema) {
    throw new PostgrestError(406, 'PGRST106', `The schema must be one of the following: ${exposedSchema}`)
  }
}

/** Whether the client wants a JSON array (the default) or one object (`application/vnd.pgrst.object+json`). */
function acceptedForm(accept: string | undefined): 'array' | 'object' {
  if (!accept?.trim()) return 'array'
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') return 'object'
    if (params.some((p) => p.startsWith('nulls='))) continue
    if (['application/json', 'application/*', '*/*', 'application/vnd.pgrst.array+json'].includes(type)) return 'array'
  }
  throw new PostgrestError(406, 'PGRST107', `None of these media types are available: ${accept.slice(0, 200)}`)
}

export interface Preferences {
  return?: 'minimal' | 'headers-only' | 'representation'
  count?: 'exact' | 'planned' | 'estimated'
  resolution?: 'merge-duplicates' | 'ignore-duplicates'
  missing?: 'default' | 'null'
  handling?: 'strict' | 'lenient'
  'max-affected'?: string
}

const known: Record<keyof Preferences, RegExp> = {
  return: /^(minimal|headers-only|representation)$/,
  count: /^(exact|planned|estimated)$/,
  resolution: /^(merge-duplicates|ignore-duplicates)$/,
  missing: /^(default|null)$/,
  handling: /^(strict|lenient)$/,
  'max-affected': /^\d{1,15}$/,
}

/**
 * The `Prefer` header (RFC 7240; several headers arrive joined by commas): the first occurrence of each
 * preference wins; unknown ones are ignored, unless `handling=strict`, which refuses them (PGRST122).
 */
function parsePrefer(header: string | undefined): Preferences {
  const prefs: Record<string, string> = {}
  const invalid: string[] = []
  for (const item of (header ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, value = ''] = item.split('=', 2).map((s) => s.trim())
    if (key in known && known[key as keyof Preferences].test(value)) {
      prefs[key] ??= value
    } else if (!['tx', 'timezone'].includes(key)) {
      invalid.push(item)
    }
  }
  if (prefs.handling === 'strict' && invalid.length) {
    throw new PostgrestError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${invalid.join(', ')}`,
    )
  }
  return prefs as Preferences
}

/** The `Preference-Applied` header for what was honoured, in PostgREST's order. */
export function preferenceApplied(prefs: Preferences, honoured: (keyof Preferences)[]): Record<string, string> {
  const order: (keyof Preferences)[] = ['resolution', 'missing', 'return', 'count', 'handling', 'max-affected']
  const applied = order.filter((key) => honoured.includes(key) && prefs[key] !== undefined).map((key) => `${key}=${prefs[key]}`)
  return applied.length ? { 'Preference-Applied': applied.join(', ') } : {}
}

/**
 * The rows a read returns: the intersection of `limit`/`offset` with a `Range: first-[last]` header (any
 * other form is ignored, as PostgREST does), capped at maxRows.
 */
export function readWindow(
  limit: number | null,
  offset: number | null,
  rangeHeader: string | undefined,
): { limit: number; offset: number } {
  if (limit !== null && limit < 0) throw new PostgrestError(416, 'PGRST103', 'Limit should be greater than or equal to zero.')
  const range = /^(\d{1,15})-(\d{0,15})$/.exec(rangeHeader?.trim() ?? '')
  const first = range ? Number(range[1]) : 0
  const last = range && range[2] !== '' ? Number(range[2]) : null
  if (last !== null && first > last) {
    throw new PostgrestError(416, 'PGRST103', 'The lower boundary must be lower than or equal to the upper boundary in the Range header.')
  }
  const start = Math.max(offset !== null && offset > 0 ? offset : 0, first)
  const ends = [start + maxRows - 1]
  if (limit !== null) ends.push((offset !== null && offset > 0 ? offset : 0) + limit - 1)
  if (last !== null) ends.push(last)
  return { offset: start, limit: Math.max(0, Math.min(...ends) - start + 1) }
}

/** `Content-Range: first-last/total`, with `*` for an empty range or an uncounted total. */
export function contentRange(offset: number, returned: number, total: number | null): string {
  return `${returned > 0 ? `${offset}-${offset + returned - 1}` : '*'}/${total ?? '*'}`
}

/** One row as an object for `Accept: application/vnd.pgrst.object+json`: exactly one row, or 406. */
export function singleRow(rows: string, count: number): string {
  if (count !== 1) {
    throw new PostgrestError(406, 'PGRST116', 'Cannot coerce the result to a single JSON object', `The result contains ${count} rows`)
  }
  return rows.slice(1, -1)
}

/** Rows as the client asked for them: a JSON array, or one object (exactly one row, else 406 PGRST116). */
export function rowsResponse(
  c: Context,
  rows: string,
  count: number,
  form: 'array' | 'object',
  status: 200 | 201 | 206,
  headers: Record<string, string>,
): never {
  if (form === 'array') return jsonText(c, rows, status, headers)
  return jsonText(c, singleRow(rows, count), status === 206 ? 200 : status, {
    ...headers,
    'content-type': 'application/vnd.pgrst.object+json; charset=utf-8',
  })
}

/**
 * PATCH and DELETE: the filters, of which there must be one at least (Supabase's safeupdate refuses a write
 * to a whole table, and so do we), and the `select` that shapes a returned representation.
 */
export function writeFilter(url: string, verb: 'UPDATE' | 'DELETE'): { filter: RowFilter; select: SelectItem[] | null } {
  const parsed = parseQueryString(rawQuery(url), { params: ['columns', 'on_conflict'] })
  if (parsed.limit !== null || parsed.offset !== null) {
    throw new ApiError(
      'invalid_query',
      `limit and offset do not apply to ${verb === 'UPDATE' ? 'PATCH' : 'DELETE'}: filter the rows instead.`,
    )
  }
  if (parsed.filters.length === 0) {
    throw new PostgrestError(
      400,
      '21000',
      `${verb} requires a WHERE clause`,
      null,
      'Add a filter such as ?id=eq.<id>; to reach every row, say so with ?id=not.is.null.',
    )
  }
  return { filter: { filters: parsed.filters }, select: parsed.select }
}

/** `Prefer: handling=strict, max-affected=n`: a write reaching more rows is refused and undone (PGRST124). */
export function checkMaxAffected(prefs: Preferences, count: number) {
  const max = prefs['max-affected']
  if (prefs.handling === 'strict' && max !== undefined && count > Number(max)) {
    throw new PostgrestError(400, 'PGRST124', 'Query result exceeds max-affected preference constraint', `The query affects ${count} rows`)
  }
}
