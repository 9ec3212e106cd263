// The dataset page's filter bar: conditions a person picks (column, operator, value) become the PostgREST
// query the page itself sends, and the same query as a curl command and a supabase-js call to copy.

/** The operators the filter bar offers, in PostgREST's words, with what the menu shows. */
export const filterOperators = {
  eq: 'equals',
  neq: 'does not equal',
  gt: 'greater than',
  gte: 'at least',
  lt: 'less than',
  lte: 'at most',
  like: 'matches (case-sensitive, * as wildcard)',
  ilike: 'matches (any case, * as wildcard)',
  in: 'is one of (comma-separated)',
  is: 'is (null, true or false)',
} as const

export type FilterOperator = keyof typeof filterOperators

export interface RowFilter {
  column: string
  operator: FilterOperator
  value: string
}

export interface RowPageRequest {
  filters: RowFilter[]
  /** A column to sort by, and whether descending. */
  order?: { column: string; descending: boolean } | null
  limit: number
  offset: number
}

export const isFilterOperator = (op: string): op is FilterOperator => Object.hasOwn(filterOperators, op)

/** A column as PostgREST reads it: plain names as they are, others double-quoted (`"a.b"`). */
export function fieldName(column: string): string {
  if (/^[A-Za-z0-9_$]+( [A-Za-z0-9_$]+)*$/.test(column)) return column
  return `"${column.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

// Inside in.(...) a value with a separator, a quote, a backslash or edge spaces is quoted, as PostgREST expects.
function listElement(value: string): string {
  if (value !== '' && !/[,()"\\]/.test(value) && value.trim() === value) return value
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** The comma-separated values typed for `in`, trimmed, empty ones dropped. */
export function listValues(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
}

function operand(filter: RowFilter): string {
  if (filter.operator === 'in') return `(${listValues(filter.value).map(listElement).join(',')})`
  if (filter.operator === 'is') return filter.value.trim().toLowerCase()
  return filter.value
}

/** The query parameters, in order, before encoding: what GET /datasets/{id}/rows is asked. */
export function rowQueryParams(request: RowPageRequest): [string, string][] {
  const params: [string, string][] = request.filters.map((f) => [fieldName(f.column), `${f.operator}.${operand(f)}`])
  if (request.order) params.push(['order', `${fieldName(request.order.column)}.${request.order.descending ? 'desc' : 'asc'}`])
  params.push(['limit', String(request.limit)], ['offset', String(request.offset)])
  return params
}

/** Percent-encodes what a query string must not carry raw, keeping PostgREST's punctuation readable. */
function encodePart(text: string): string {
  return encodeURIComponent(text).replace(/%(2C|28|29|22|24|3A|3E|2A)/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
}

/** The encoded query string (without `?`). */
export function rowQueryString(request: RowPageRequest): string {
  return rowQueryParams(request)
    .map(([k, v]) => `${encodePart(k)}=${encodePart(v)}`)
    .join('&')
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`

/** The same read as a curl command against the API, the key left in an environment variable. */
export function curlCommand(apiBase: string, datasetId: string, request: RowPageRequest): string {
  const url = `${apiBase}/datasets/${encodeURIComponent(datasetId)}/rows?${rowQueryString(request)}`
  return `curl ${shellQuote(url)} \\\n  -H "Authorization: Bearer $AGENTRY_KEY"`
}

const js = (value: unknown) => JSON.stringify(value)

// A value typed into a number column is passed as a number; anything else as the text typed.
function jsValue(text: string, type: string | undefined): string {
  if (type === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) return String(Number(text))
  return js(text)
}

function jsCall(filter: RowFilter, type: string | undefined): string {
  const column = js(filter.column)
  switch (filter.operator) {
    case 'in':
      return `.in(${column}, [${listValues(filter.value)
        .map((v) => jsValue(v, type))
        .join(', ')}])`
    case 'is': {
      const v = filter.value.trim().toLowerCase()
      return `.is(${column}, ${v === 'null' || v === 'true' || v === 'false' ? v : js(filter.value)})`
    }
    default:
      return `.${filter.operator}(${column}, ${jsValue(filter.value, type)})`
  }
}

/**
 * The same read through supabase-js on the PostgREST surface (`/rest/v1/{dataset name}`): the filters as its
 * methods, the page as `.range()`, and the total asked for with `count: 'exact'`.
 */
export function supabaseJsCall(
  restBase: string,
  datasetName: string,
  request: RowPageRequest,
  columnTypes: Record<string, string> = {},
): string {
  const lines = [
    "import { createClient } from '@supabase/supabase-js'",
    '',
    `const db = createClient(${js(restBase)}, process.env.AGENTRY_KEY)`,
    `const { data, count } = await db.from(${js(datasetName)}).select('*', { count: 'exact' })`,
  ]
  for (const f of request.filters) lines.push(`  ${jsCall(f, columnTypes[f.column])}`)
  if (request.order) {
    lines.push(`  .order(${js(request.order.column)}, { ascending: ${!request.order.descending} })`)
  }
  lines.push(`  .range(${request.offset}, ${request.offset + request.limit - 1})`)
  return lines.join('\n')
}

/**
 * The filters a page URL carries, as the filter bar's form submits them: `column`, `operator` and `value`
 * repeated in step, so a filtered grid is a link that can be shared and reloaded. A row without a column or
 * with an unknown operator is dropped.
 */
export function filtersFromSearch(search: URLSearchParams): RowFilter[] {
  const [columns, operators, values] = [search.getAll('column'), search.getAll('operator'), search.getAll('value')]
  const filters: RowFilter[] = []
  columns.forEach((column, i) => {
    const operator = operators[i] ?? ''
    if (column && isFilterOperator(operator)) filters.push({ column, operator, value: values[i] ?? '' })
  })
  return filters
}
