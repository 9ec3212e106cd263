// The compiler: a parsed query (ast.ts) plus a dataset's columns → one parameterised SQL statement over the
// dataset's rows (read through agentry.visible_dataset_rows, written in agentry.dataset_rows). Every value,
// JSON key and array index is a bound parameter; the only text spliced into SQL is fixed by this file
// (operators, casts from a whitelist, parameter numbers). Each part that PostgreSQL may refuse on hostile
// input is noted on the statement (queryErrorFrom in ../errors.ts), so that an error can name it.
//
// Typing. A declared column compares by its type: numbers as numbers, timestamps as instants (stored
// canonically, see values.ts), text as text, booleans as booleans. An undeclared key of an open dataset,
// and a JSON path ending in `->>`, compare as text, except that a range operator (gt, lt …) with a numeric
// literal compares numbers as numbers. A path ending in `->` compares as JSON. A missing key is NULL.
import type { ArrayElement, Condition, Field, Filter, Operation, OrderTerm, SelectItem } from './ast.ts'
import { clip } from '../clip.ts'
import { ApiError, likeEscapeProblem, type Fault, type Suspect } from '../errors.ts'
import { isUuid } from '../uuid.ts'
import { parseArrayLiteral } from './parse.ts'
import { canonicalTimestamp, isJsonNumber, isNumberLiteral, pgTextArray, type ColumnType } from './values.ts'

export interface ColumnSpec {
  name: string
  type: ColumnType
}

/** What the compiler needs to know of a dataset. */
export interface RowShape {
  id: string
  name: string
  columns: readonly ColumnSpec[]
  open: boolean
}

export interface Statement {
  text: string
  params: (string | null)[]
  /** The parts that can raise an error on the input they were given. */
  suspects?: Suspect[]
}

/** What selects rows: filters and trees (ANDed) and an optional full-text search over the whole row. */
export interface RowFilter {
  filters: readonly Filter[]
  search?: string | null
}

export interface RowQuery extends RowFilter {
  select: readonly SelectItem[] | null
  order: readonly OrderTerm[]
}

/** Keys every row has besides its data, in the order `select=*` lists them. */
export const systemColumns = ['id', 'created_at', 'updated_at'] as const
type SystemColumn = (typeof systemColumns)[number]

const invalid = (message: string) => new ApiError('invalid_query', message)

class Params {
  readonly values: (string | null)[] = []
  readonly suspects: Suspect[] = []
  /**
   * Every parameter is sent as text and cast in SQL: the driver would otherwise encode a value again for
   * the type it learns (a JSON text bound to jsonb would arrive as a JSON string).
   */
  add(value: string | null, cast: string): string {
    this.values.push(value)
    return cast === 'text' ? `$${this.values.length}::text` : `$${this.values.length}::text::${cast}`
  }

  /** Notes that the part named `where` can raise `fault`'s errors. */
  suspect(fault: Fault, where: string): void {
    this.suspects.push({ fault, where })
  }

  statement(text: string): Statement {
    return { text, params: this.values, suspects: this.suspects }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fields

type Target =
  | { system: SystemColumn; field: Field }
  | { system: null; field: Field; declared: ColumnType | null }

/** How values of a target compare. */
type Kind = 'uuid' | 'timestamptz' | 'text' | 'number' | 'boolean' | 'timestamp' | 'dynamic' | 'json'

export function fieldLabel(field: Field): string {
  return field.name + field.path.map((s) => `${s.text ? '->>' : '->'}${s.key}`).join('')
}

function resolve(shape: RowShape, field: Field): Target {
  if ((systemColumns as readonly string[]).includes(field.name)) {
    if (field.path.length > 0) throw invalid(`"${field.name}" is not JSON: a JSON path (-> or ->>) cannot follow it.`)
    return { system: field.name as SystemColumn, field }
  }
  const column = shape.columns.find((c) => c.name === field.name)
  if (column) {
    if (field.path.length > 0 && column.type !== 'json') {
      throw invalid(`"${field.name}" is a ${column.type} column: JSON paths (-> and ->>) apply to json columns.`)
    }
    return { system: null, field, declared: column.type }
  }
  if (!shape.open) {
    const known = [...systemColumns, ...shape.columns.map((c) => c.name)].map((n) => `"${n}"`).join(', ')
    throw invalid(`Dataset "${shape.name}" has no column "${field.name}" (its columns: ${known}).`)
  }
  return { system: null, field, declared: null }
}

function kindOf(t: Target): Kind {
  if (t.system) return t.system === 'id' ? 'uuid' : 'timestamptz'
  const last = t.field.path.at(-1)
  if (last) return last.text ? 'dynamic' : 'json'
  return t.declared === null || t.declared === 'json' ? 'dynamic' : t.declared
}

/** `data -> k1 -> k2 …`; the last step as `->>` when `asText`. */
function pathExpr(field: Field, p: Params, asText: boolean): string {
  const steps = [{ key: field.name as string | number, text: false }, ...field.path]
  let sql = 'data'
  steps.forEach((step, i) => {
    const last = i === steps.length - 1
    const arrow = last && asText ? '->>' : '->'
    sql += ` ${arrow} ${typeof step.key === 'number' ? p.add(String(step.key), 'integer') : p.add(step.key, 'text')}`
  })
  return `(${sql})`
}

/** The value as JSON (jsonb): a path's last step read with `->`; a JSON null is NULL, like a missing key. */
function jsonExpr(t: Target, p: Params): string {
  if (t.system) return `to_jsonb(${t.system})`
  return `nullif(${pathExpr(t.field, p, false)}, 'null'::jsonb)`
}

/** The value as text: strings unquoted, numbers and booleans as their JSON text, NULL when missing or null. */
function textExpr(t: Target, p: Params): string {
  if (t.system) return `${t.system}::text`
  return pathExpr(t.field, p, true)
}

/** The value in the type it compares by. Declared columns use exactly the expression their index is built on. */
function valueExpr(t: Target, kind: Kind, p: Params): string {
  switch (kind) {
    case 'uuid':
    case 'timestamptz':
      return (t as { system: SystemColumn }).system
    case 'number':
      return `(${textExpr(t, p)}::numeric)`
    case 'boolean':
      return `(${textExpr(t, p)}::boolean)`
    case 'json':
      return jsonExpr(t, p)
    default:
      return textExpr(t, p)
  }
}

function dynamicNumber(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'number' then ${j}::numeric end)`
}

function dynamicBoolean(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'boolean' then ${j}::boolean end)`
}

// ---------------------------------------------------------------------------------------------------------
// Literals

const sqlTypeOfKind: Record<Kind, string> = {
  uuid: 'uuid',
  timestamptz: 'timestamptz',
  text: 'text',
  number: 'numeric',
  boolean: 'boolean',
  timestamp: 'text',
  dynamic: 'text',
  json: 'jsonb',
}

/** A literal converted to what `kind` compares with; a literal the column cannot hold is a 400. */
function literalValue(kind: Kind, text: string, label: string): string {
  switch (kind) {
    case 'uuid':
      if (!isUuid(text)) throw invalid(`"${label}" is a UUID: "${clip(text, 80)}" is not one.`)
      return text
    case 'timestamptz':
    case 'timestamp': {
      const canonical = canonicalTimestamp(text, kind === 'timestamptz' ? 6 : 3)
      if (!canonical) throw invalid(`"${label}" is a timestamp: "${clip(text, 80)}" is not an ISO 8601 date or date-time.`)
      return canonical
    }
    case 'number':
      if (!isNumberLiteral(text)) throw invalid(`"${label}" is a number column: "${clip(text, 80)}" is not a number.`)
      return text.trim()
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) throw invalid(`"${label}" is a boolean column: use true or false, not "${clip(text, 80)}".`)
      return text.toLowerCase()
    case 'json':
      return jsonLiteral(text)
    default:
      return text
  }
}

/** JSON as sent when it parses; otherwise the text as a JSON string. */
function jsonLiteral(text: string): string {
  try {
    JSON.parse(text)
    return text
  } catch {
    return JSON.stringify(text)
  }
}

/** The JSON value an `eq` on a declared column means, for containment (`data @> {"col": value}`), if exact. */
function containmentScalar(kind: Kind, literal: string): string | null {
  switch (kind) {
    case 'text':
    case 'timestamp':
      return JSON.stringify(literal)
    case 'number':
      return isJsonNumber(literal) ? literal : null
    case 'boolean':
      return literal
    default:
      return null
  }
}

/** Elements of an array literal `{a,"b",3,NULL}` (or a JSON array) as JSON values. */
function jsonElements(value: string, label: string, op: string): unknown[] {
  const trimmed = value.trim()
  if (trimmed.startsWith('[')) {
    const parsed = tryJson(trimmed)
    if (Array.isArray(parsed)) return parsed
  }
  if (!trimmed.startsWith('{')) throw invalid(`${op} on "${label}" takes an array such as {a,b} or ["a","b"], not "${clip(value, 80)}".`)
  return parseArrayLiteral(trimmed).map(elementToJson)
}

function elementToJson(e: ArrayElement): unknown {
  if (e.text === null) return null
  if (e.quoted) return e.text
  if (isJsonNumber(e.text)) return Number(e.text)
  if (e.text === 'true' || e.text === 'false') return e.text === 'true'
  return e.text
}

/** The JSON a `cs`/`cd` literal means: JSON as sent, or an array literal `{a,b}` as a JSON array. */
function containmentJson(value: string, label: string, op: string): string {
  const trimmed = value.trim()
  if (trimmed === '{}') return '[]'
  const parsed = tryJson(trimmed)
  if (parsed !== undefined) return trimmed
  if (trimmed.startsWith('{')) return JSON.stringify(jsonElements(trimmed, label, op))
  return JSON.stringify(value)
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------------------
// Filters

const comparison: Record<string, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }
const patternOp: Record<string, string> = { like: 'like', ilike: 'ilike', match: '~', imatch: '~*' }
const ftsFunction: Record<string, string> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
}
const rangeNames: Record<string, string> = {
  sl: 'strictly left of',
  sr: 'strictly right of',
  nxr: 'does not extend to the right of',
  nxl: 'does not extend to the left of',
  adj: 'adjacent to',
}

/**
 * A WHERE clause for the filters. `positive` is false under an odd number of `not`s: only where a NULL and
 * a false mean the same (positive places) may `eq` use the containment form that the GIN index serves.
 */
function compileFilters(shape: RowShape, filters: readonly Filter[], p: Params, positive = true): string {
  if (filters.length === 0) return 'true'
  return filters.map((f) => compileFilter(shape, f, p, positive)).join(' and ')
}

function compileFilter(shape: RowShape, f: Filter, p: Params, positive: boolean): string {
  if (f.type === 'condition') {
    const inner = compileCondition(shape, f, p, f.negated ? !positive : positive)
    return f.negated ? `not ${inner}` : inner
  }
  const inner = positive !== f.negated
  const parts = f.children.map((child) => compileFilter(shape, child, p, inner))
  const joined = `(${parts.join(f.type === 'and' ? ' and ' : ' or ')})`
  return f.negated ? `not ${joined}` : joined
}

function compileCondition(shape: RowShape, c: Condition, p: Params, positive: boolean): string {
  const t = resolve(shape, c.field)
  const kind = kindOf(t)
  const label = fieldLabel(c.field)
  const o: Operation = c.operation
  const where = `the filter on "${label}"`
  // PostgreSQL reads numbers and JSON in its own grammar: a literal JavaScript accepts may still be refused.
  if (kind === 'number' || kind === 'json' || ['cs', 'cd', 'ov'].includes(o.op)) p.suspect('literal', where)

  if ('quantifier' in o) return compileQuantified(t, kind, label, o.op, o.quantifier, o.values, p)

  switch (o.op) {
    case 'eq':
    case 'neq':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (kind === 'dynamic' && o.op !== 'eq' && o.op !== 'neq' && isNumberLiteral(o.value)) {
        p.suspect('literal', where)
        return `(${dynamicNumber(t, p)} ${comparison[o.op]} ${p.add(o.value.trim(), 'numeric')})`
      }
      const literal = literalValue(kind, o.value, label)
      if (o.op === 'eq' && positive && !t.system && t.field.path.length === 0) {
        const scalar = containmentScalar(kind, literal)
        if (scalar !== null) return `(data @> ${p.add(`{${JSON.stringify(t.field.name)}:${scalar}}`, 'jsonb')})`
      }
      return `(${valueExpr(t, kind, p)} ${comparison[o.op]} ${p.add(literal, sqlTypeOfKind[kind])})`
    }
    case 'like':
    case 'ilike':
      p.suspect('like', where)
      return `(${textExpr(t, p)} ${patternOp[o.op]} ${p.add(likePattern(o.value, label), 'text')})`
    case 'match':
    case 'imatch':
      p.suspect('regex', where)
      return `(${textExpr(t, p)} ${patternOp[o.op]} ${p.add(o.value, 'text')})`
    case 'isdistinct':
      return `(${valueExpr(t, kind, p)} is distinct from ${p.add(literalValue(kind, o.value, label), sqlTypeOfKind[kind])})`
    case 'in': {
      if (o.values.length === 0) return 'false'
      const values = o.values.map((v) => literalValue(kind, v, label))
      return `(${valueExpr(t, kind, p)} = any(${p.add(pgTextArray(values), `${sqlTypeOfKind[kind]}[]`)}))`
    }
    case 'is':
      switch (o.value) {
        case 'null':
          return `(${textExpr(t, p)} is null)`
        case 'not_null':
          return `(${textExpr(t, p)} is not null)`
        default: {
          const bool = kind === 'boolean' ? valueExpr(t, kind, p) : kind === 'dynamic' || kind === 'json' ? dynamicBoolean(t, p) : null
          if (!bool) throw invalid(`is.${o.value} applies to boolean values: "${label}" is ${kind === 'uuid' ? 'a UUID' : `a ${kind === 'timestamptz' ? 'timestamp' : kind} column`}.`)
          return `(${bool} is ${o.value})`
        }
      }
    case 'fts':
    case 'plfts':
    case 'phfts':
    case 'wfts': {
      if (o.config !== null) p.suspect('tsconfig', where)
      if (o.op === 'fts') p.suspect('tsquery', where)
      const config = o.config === null ? null : p.add(o.config, 'regconfig')
      const args = (value: string) => (config ? `${config}, ${value}` : value)
      return `(to_tsvector(${args(textExpr(t, p))}) @@ ${ftsFunction[o.op]}(${args(p.add(o.value, 'text'))}))`
    }
    case 'cs':
    case 'cd': {
      if (t.system) throw invalid(`${o.op} applies to JSON values: "${label}" is not one.`)
      const json = containmentJson(o.value, label, o.op)
      if (o.op === 'cs' && positive && t.field.path.length === 0) {
        return `(data @> ${p.add(`{${JSON.stringify(t.field.name)}:${json}}`, 'jsonb')})`
      }
      return `(${jsonExpr(t, p)} ${o.op === 'cs' ? '@>' : '<@'} ${p.add(json, 'jsonb')})`
    }
    case 'ov': {
      if (t.system) throw invalid(`ov applies to JSON arrays: "${label}" is not one.`)
      const elements = jsonElements(o.value, label, 'ov')
      if (elements.length === 0) return 'false'
      const topLevel = positive && t.field.path.length === 0
      const alternatives = elements.map((e) =>
        topLevel
          ? `data @> ${p.add(JSON.stringify({ [t.field.name]: [e] }), 'jsonb')}`
          : `${jsonExpr(t, p)} @> ${p.add(JSON.stringify([e]), 'jsonb')}`,
      )
      return `(${alternatives.join(' or ')})`
    }
    case 'sl':
    case 'sr':
    case 'nxr':
    case 'nxl':
    case 'adj':
      throw invalid(`${o.op} (${rangeNames[o.op]}) compares ranges, and dataset values are JSON, which has no range type.`)
  }
}

/**
 * A LIKE pattern as PostgREST writes it (`*` for `%`). PostgreSQL refuses a pattern ending in its escape
 * character, but only once a row reaches that end: refused here for every row alike.
 */
function likePattern(value: string, label: string): string {
  const pattern = value.replaceAll('*', '%')
  const trailing = pattern.length - pattern.replace(/\\+$/, '').length
  if (trailing % 2 === 1) {
    throw invalid(likeEscapeProblem(`the filter on "${label}"`))
  }
  return pattern
}

function compileQuantified(
  t: Target,
  kind: Kind,
  label: string,
  op: string,
  quantifier: 'any' | 'all',
  elements: readonly ArrayElement[],
  p: Params,
): string {
  const texts = elements.map((e) => e.text)
  if (op in patternOp) {
    const like = op === 'like' || op === 'ilike'
    p.suspect(like ? 'like' : 'regex', `the filter on "${label}"`)
    const patterns = like ? texts.map((v) => (v === null ? null : likePattern(v, label))) : texts
    return `(${textExpr(t, p)} ${patternOp[op]} ${quantifier}(${p.add(pgTextArray(patterns), 'text[]')}))`
  }
  if (kind === 'dynamic' && op !== 'eq' && texts.length > 0 && texts.every((v) => v !== null && isNumberLiteral(v))) {
    p.suspect('literal', `the filter on "${label}"`)
    return `(${dynamicNumber(t, p)} ${comparison[op]} ${quantifier}(${p.add(pgTextArray(texts), 'numeric[]')}))`
  }
  const values = texts.map((v) => (v === null ? null : literalValue(kind, v, label)))
  return `(${valueExpr(t, kind, p)} ${comparison[op]} ${quantifier}(${p.add(pgTextArray(values), `${sqlTypeOfKind[kind]}[]`)}))`
}

// ---------------------------------------------------------------------------------------------------------
// Order and select

function compileOrder(shape: RowShape, order: readonly OrderTerm[], p: Params): string {
  const terms = order.map((term) => {
    const t = resolve(shape, term.field)
    const kind = kindOf(t)
    // Untyped values sort as JSON: numbers numerically, strings as text; a JSON null sorts as a missing key.
    const expr = kind === 'dynamic' || kind === 'json' ? jsonExpr(t, p) : valueExpr(t, kind, p)
    return `${expr}${term.direction ? ` ${term.direction}` : ''}${term.nulls ? ` nulls ${term.nulls}` : ''}`
  })
  // Insertion order breaks ties, so paging through equal values is stable.
  return [...terms, 'seq'].join(', ')
}

// A Map, not an object literal: a name such as "constructor" or "__proto__" must not find anything.
const casts = new Map<string, string>([
  ['text', 'text'],
  ['int', 'integer'], ['integer', 'integer'], ['int4', 'integer'],
  ['bigint', 'bigint'], ['int8', 'bigint'],
  ['smallint', 'smallint'], ['int2', 'smallint'],
  ['numeric', 'numeric'], ['decimal', 'numeric'],
  ['real', 'real'], ['float4', 'real'],
  ['float', 'double precision'], ['float8', 'double precision'], ['double precision', 'double precision'],
  ['bool', 'boolean'], ['boolean', 'boolean'],
  ['json', 'json'], ['jsonb', 'jsonb'],
  ['date', 'date'], ['timestamp', 'timestamp'], ['timestamptz', 'timestamptz'], ['uuid', 'uuid'],
])

/** The whole row: id, the declared columns (null when absent), every stored key, and the timestamps. */
function starExpr(shape: RowShape, p: Params): string {
  const defaults = shape.columns.length
    ? ` || ${p.add(JSON.stringify(Object.fromEntries(shape.columns.map((c) => [c.name, null]))), 'jsonb')}`
    : ''
  return `(jsonb_build_object('id', id)${defaults} || data || jsonb_build_object('created_at', created_at, 'updated_at', updated_at))`
}

function selectValue(shape: RowShape, item: Extract<SelectItem, { type: 'field' }>, p: Params): string {
  const t = resolve(shape, item.field)
  if (item.cast === null) {
    if (t.system) return t.system
    const last = item.field.path.at(-1)
    return pathExpr(item.field, p, last?.text ?? false)
  }
  const type = casts.get(item.cast)
  if (!type) throw invalid(`Unknown cast "::${item.cast}" on "${fieldLabel(item.field)}"; use one of: ${[...casts.keys()].join(', ')}.`)
  p.suspect('cast', `the select of "${fieldLabel(item.field)}"::${item.cast}`)
  if (type === 'json' || type === 'jsonb') return t.system ? `to_jsonb(${t.system})` : `(${textExpr(t, p)})::${type}`
  // Cast from the value's own type where it has one, so that 2.5::int is 3 and not an error.
  const kind = kindOf(t)
  const source = kind === 'number' || kind === 'boolean' || t.system ? valueExpr(t, kind, p) : textExpr(t, p)
  return `(${source})::${type}`
}

/** Output keys of a select, in order; `*` lists id, the declared columns and the timestamps. */
export function selectedColumns(shape: RowShape, select: readonly SelectItem[] | null): string[] {
  const star = ['id', ...shape.columns.map((c) => c.name), 'created_at', 'updated_at']
  if (!select) return star
  return [...new Set(select.flatMap((item) => (item.type === 'star' ? star : [item.key])))]
}

/** One JSON value per row, shaped by `select`. */
function compileSelect(shape: RowShape, select: readonly SelectItem[] | null, p: Params): string {
  if (!select || select.every((item) => item.type === 'star')) return starExpr(shape, p)
  const fields = select.filter((item): item is Extract<SelectItem, { type: 'field' }> => item.type === 'field')
  // json_build_object keeps the order asked for; it takes at most 100 arguments.
  if (fields.length > 50) throw invalid(`select names ${fields.length} fields; at most 50 are allowed.`)
  const pairs = fields.map((item) => `${p.add(item.key, 'text')}, ${selectValue(shape, item, p)}`)
  if (select.some((item) => item.type === 'star')) return `(${starExpr(shape, p)} || jsonb_build_object(${pairs.join(', ')}))`
  return `json_build_object(${pairs.join(', ')})`
}

// ---------------------------------------------------------------------------------------------------------
// Statements

/**
 * Reads go through the view that applies the caller's claims the way the indexes can serve (see the
 * datasets migration); writes go to the table, under its RLS policies.
 */
export const visibleRows = 'agentry.visible_dataset_rows'

function whereClause(shape: RowShape, q: RowFilter, p: Params): string {
  const parts = [`dataset_id = ${p.add(shape.id, 'uuid')}`]
  if (q.filters.length) parts.push(compileFilters(shape, q.filters, p))
  if (q.search) parts.push(`search @@ websearch_to_tsquery('simple', ${p.add(q.search, 'text')})`)
  return parts.join(' and ')
}

/** True when the query selects every row (so the dataset's row_count is its total). */
export function selectsEverything(q: RowFilter): boolean {
  return q.filters.length === 0 && !q.search
}

/** One page of rows as a JSON array text (`rows`, `returned` of them), in the order asked for, else insertion order. */
export function selectRowsStatement(shape: RowShape, q: RowQuery, page: { limit: number; offset: number }): Statement {
  const p = new Params()
  const row = compileSelect(shape, q.select, p)
  const where = whereClause(shape, q, p)
  const order = compileOrder(shape, q.order, p)
  const text =
    `select coalesce(json_agg(page.row), '[]')::text as rows, count(*)::float8 as returned from (` +
    `select ${row} as row from ${visibleRows} where ${where} order by ${order} ` +
    `limit ${p.add(String(page.limit), 'bigint')} offset ${p.add(String(page.offset), 'bigint')}) as page`
  return p.statement(text)
}

/** How many rows match (`total`), whatever the page. */
export function countRowsStatement(shape: RowShape, q: RowFilter): Statement {
  const p = new Params()
  return p.statement(`select count(*)::float8 as total from ${visibleRows} where ${whereClause(shape, q, p)}`)
}

/** The distinct values of one field among the matching rows, most frequent first, with the number of them. */
export function distinctValuesStatement(shape: RowShape, field: Field, q: RowFilter, page: { limit: number; offset: number }): Statement {
  const p = new Params()
  const t = resolve(shape, field)
  const kind = kindOf(t)
  const value = kind === 'dynamic' || kind === 'json' ? jsonExpr(t, p) : `to_jsonb(${valueExpr(t, kind, p)})`
  const text =
    `with counted as (select ${value} as value, count(*) as n from ${visibleRows} where ${whereClause(shape, q, p)} group by 1) ` +
    `select (select count(*) from counted)::float8 as total_unique, ` +
    `(select coalesce(json_agg(json_build_object('value', value, 'count', n)), '[]') from ` +
    `(select value, n from counted order by n desc, value nulls last limit ${p.add(String(page.limit), 'bigint')} ` +
    `offset ${p.add(String(page.offset), 'bigint')}) as page)::text as values`
  return p.statement(text)
}

/** What a write returns: its rows shaped by a select (null: whole rows), or only how many (`count`). */
export type Returning = readonly SelectItem[] | null | 'count'

/** A write's result: the affected rows as a JSON array text, in insertion order, and how many. */
function writeResult(shape: RowShape, write: string, returning: Returning, p: Params): string {
  if (returning === 'count') return `with written as (${write} returning 1) select '[]' as rows, count(*)::float8 as count from written`
  const row = compileSelect(shape, returning, p)
  return (
    `with written as (${write} returning ${row} as row, seq) ` +
    `select coalesce(json_agg(row order by seq), '[]')::text as rows, count(*)::float8 as count from written`
  )
}

export interface NewRow {
  id?: string
  data: Record<string, unknown>
}

/** Inserts rows in order; `onConflict` on the row id merges into the stored row or keeps it. */
export function insertRowsStatement(
  shape: RowShape,
  rows: readonly NewRow[],
  options: { onConflict?: 'merge' | 'ignore' | null; returning?: Returning } = {},
): Statement {
  const p = new Params()
  const conflict =
    options.onConflict === 'merge'
      ? ' on conflict (dataset_id, id) do update set data = dataset_rows.data || excluded.data'
      : options.onConflict === 'ignore'
        ? ' on conflict (dataset_id, id) do nothing'
        : ''
  const insert =
    `insert into agentry.dataset_rows (dataset_id, id, data) ` +
    `select ${p.add(shape.id, 'uuid')}, coalesce((e.value ->> 'id')::uuid, gen_random_uuid()), e.value -> 'data' ` +
    `from jsonb_array_elements(${p.add(JSON.stringify(rows), 'jsonb')}) with ordinality as e(value, n) order by e.n${conflict}`
  p.suspect('data', 'the rows sent')
  return p.statement(writeResult(shape, insert, options.returning ?? null, p))
}

/**
 * The rows a write reaches: found through the readable view, where indexes serve the filters, and then
 * written in the table, whose RLS policies check each of them again.
 */
function writeTarget(shape: RowShape, q: RowFilter, p: Params): string {
  return `dataset_id = ${p.add(shape.id, 'uuid')} and id in (select id from ${visibleRows} where ${whereClause(shape, q, p)})`
}

/** Merges `patch` into every matching row (top-level keys replace). */
export function updateRowsStatement(shape: RowShape, q: RowFilter, patch: Record<string, unknown>, returning: Returning = null): Statement {
  const p = new Params()
  const update = `update agentry.dataset_rows set data = data || ${p.add(JSON.stringify(patch), 'jsonb')} where ${writeTarget(shape, q, p)}`
  p.suspect('data', 'the changes sent')
  return p.statement(writeResult(shape, update, returning, p))
}

export function deleteRowsStatement(shape: RowShape, q: RowFilter, returning: Returning = null): Statement {
  const p = new Params()
  return p.statement(writeResult(shape, `delete from agentry.dataset_rows where ${writeTarget(shape, q, p)}`, returning, p))
}

/** The filter that addresses one row by id. */
export function rowIdFilter(id: string): Filter {
  return { type: 'condition', negated: false, field: { name: 'id', path: [] }, operation: { op: 'eq', value: id } }
}
