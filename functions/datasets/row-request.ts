import { clip } from '../_core/clip.ts'
import type { Field } from '../_core/postgrest/ast.ts'
import { ApiError } from '../_core/errors.ts'
import type { RowFilter } from '../_core/postgrest/filters.ts'
import type { RowQuery } from '../_core/postgrest/statements.ts'
import { parseField, parseQueryString } from '../_core/postgrest/parse.ts'
import type { Page } from '../_core/postgrest/rows.ts'
import { countModes, type CountMode } from '../_core/postgrest/estimate.ts'
import { isUuid } from '../_core/uuid.ts'

export const pageLimits = { default: 100, max: 1000 }

const invalid = (message: string) => new ApiError('invalid_query', message)

/** The query string exactly as sent: the engine does its own decoding, as PostgREST does. */
export function rawQuery(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return ''
  const hash = url.indexOf('#', at)
  return url.slice(at + 1, hash < 0 ? undefined : hash)
}

/** GET /datasets/{id}/rows: filters, select, order, the page (limit 1–1000, default 100; offset ≥ 0), search, distinct, count. */
export function parseRowRequest(url: string): { query: RowQuery; page: Page; distinct: Field | null; count: CountMode } {
  const parsed = parseQueryString(rawQuery(url), { params: ['search', 'distinct', 'count'] })
  const limit = parsed.limit ?? pageLimits.default
  if (limit < 1 || limit > pageLimits.max) throw invalid(`limit must be between 1 and ${pageLimits.max}, got ${limit}.`)
  const offset = parsed.offset ?? 0
  if (offset < 0) throw invalid(`offset must be 0 or more, got ${offset}.`)
  const distinct = parsed.params.distinct === undefined ? null : parseField(parsed.params.distinct, 'distinct')
  if (distinct && parsed.select) throw invalid('select does not apply to a distinct query: it returns values and counts.')
  if (distinct && parsed.order.length) throw invalid('order does not apply to a distinct query: values come most frequent first.')
  const count = (parsed.params.count ?? 'exact') as CountMode
  if (!countModes.includes(count)) throw invalid(`count must be exact, planned or estimated, got "${clip(count, 40)}".`)
  return {
    query: { select: parsed.select, filters: parsed.filters, order: parsed.order, search: parsed.params.search?.trim() || null },
    page: { limit, offset },
    distinct,
    count,
  }
}

/** PATCH/DELETE /datasets/{id}/rows: filters only, and at least one, so no bulk write touches every row by accident. */
export function parseBulkFilter(url: string, verb: 'update' | 'delete'): RowFilter {
  const parsed = parseQueryString(rawQuery(url), { params: ['search'] })
  if (parsed.select || parsed.order.length || parsed.limit !== null || parsed.offset !== null) {
    throw invalid(`A bulk ${verb} takes filters only: select, order, limit and offset do not apply.`)
  }
  const search = parsed.params.search?.trim() || null
  if (parsed.filters.length === 0 && !search) {
    throw invalid(
      `A bulk ${verb} needs at least one filter (for example status=eq.stale); to ${verb} every row, say so with id=not.is.null.`,
    )
  }
  return { filters: parsed.filters, search }
}

/** The row id from the path, which must be a UUID. */
export function rowIdFrom(text: string): string {
  if (!isUuid(text)) throw new ApiError('invalid_row_id', `Row id "${clip(text, 60)}" is not a UUID: pass a row's id from a GET query.`)
  return text.toLowerCase()
}
