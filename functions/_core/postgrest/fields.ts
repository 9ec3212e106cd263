// Field typing: what a field of a query names in a dataset's table (a system column, a declared column, an
// undeclared key of an open dataset, a JSON path), how its values compare, and the SQL that reads them.
//
// A dataset is a table of its own (`datasets."<dataset id>"`): a declared column is a typed column and
// compares in its SQL type on the column itself, so that its B-tree index serves it. An undeclared key of an
// open dataset lives in the `_extras` object, and a JSON path applies to a json column or to an undeclared
// key: those compare as text (a value ending in `->>`), except that a range operator (gt, lt …) with a
// numeric literal compares numbers as numbers; a path ending in `->` compares as JSON. A missing key is NULL.
import type { Field } from './ast.ts'
import { ApiError } from '../errors.ts'
import { isUuid } from '../uuid.ts'
import type { Params } from './params.ts'
import type { ColumnType } from './values.ts'

export interface ColumnSpec {
  name: string
  type: ColumnType
  /** The column's name in the dataset's table, when it differs from `name` (set by the database). */
  column?: string
}

/** What the compiler needs to know of a dataset. */
export interface RowShape {
  id: string
  name: string
  columns: readonly ColumnSpec[]
  open: boolean
}

/** Keys every row has besides its data, in the order `select=*` lists them. */
export const systemColumns = ['id', 'created_at', 'updated_at'] as const
type SystemColumn = (typeof systemColumns)[number]

/** The SQL type a declared column of each type is stored as. */
export const sqlTypeOfColumn: Record<ColumnType, string> = {
  text: 'text',
  // Every number reaches the API through JSON.parse, so it is a double already; and unlike numeric's, the
  // comparisons of double precision are leakproof, which lets an index serve them under RLS.
  number: 'double precision',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  json: 'jsonb',
}

export const invalid = (message: string) => new ApiError('invalid_query', message)

export type Target = { system: SystemColumn; field: Field } | { system: null; field: Field; declared: ColumnSpec | null }

/** How values of a target compare. */
export type Kind = 'uuid' | 'timestamptz' | 'text' | 'number' | 'boolean' | 'timestamp' | 'dynamic' | 'json'

export function fieldLabel(field: Field): string {
  return field.name + field.path.map((s) => `${s.text ? '->>' : '->'}${s.key}`).join('')
}

/** A quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** The dataset's own table. Its name is the dataset id, a UUID the database made: checked, never trusted. */
export function tableOf(shape: RowShape): string {
  if (!isUuid(shape.id)) throw new Error(`Dataset id ${JSON.stringify(shape.id)} is not a UUID.`)
  return `datasets.${quoteIdent(shape.id.toLowerCase())}`
}

/** A declared column as the table names it (`t` is the table's alias in every statement). */
export function columnRef(column: ColumnSpec): string {
  return `t.${quoteIdent(column.column ?? column.name)}`
}

export function resolve(shape: RowShape, field: Field): Target {
  if ((systemColumns as readonly string[]).includes(field.name)) {
    if (field.path.length > 0) throw invalid(`"${field.name}" is not JSON: a JSON path (-> or ->>) cannot follow it.`)
    return { system: field.name as SystemColumn, field }
  }
  const column = shape.columns.find((c) => c.name === field.name)
  if (column) {
    if (field.path.length > 0 && column.type !== 'json') {
      throw invalid(`"${field.name}" is a ${column.type} column: JSON paths (-> and ->>) apply to json columns.`)
    }
    return { system: null, field, declared: column }
  }
  if (!shape.open) {
    const known = [...systemColumns, ...shape.columns.map((c) => c.name)].map((n) => `"${n}"`).join(', ')
    throw invalid(`Dataset "${shape.name}" has no column "${field.name}" (its columns: ${known}).`)
  }
  return { system: null, field, declared: null }
}

export function kindOf(t: Target): Kind {
  if (t.system) return t.system === 'id' ? 'uuid' : 'timestamptz'
  const last = t.field.path.at(-1)
  if (last) return last.text ? 'dynamic' : 'json'
  return t.declared === null || t.declared.type === 'json' ? 'dynamic' : t.declared.type
}

/** The typed column a target reads directly (a declared column without a path), if it is one. */
export function typedColumn(t: Target): ColumnSpec | null {
  if (t.system || !t.declared || t.declared.type === 'json' || t.field.path.length > 0) return null
  return t.declared
}

/** A timestamp as the API writes it: `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC whatever the session's time zone. */
export function canonicalTimestampText(expr: string): string {
  return `to_char(${expr} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/**
 * A JSON-valued field: a json column, or an undeclared key in `_extras`, then its path; the last step as
 * `->>` when `asText`. Keys and indexes are bound parameters.
 */
export function pathExpr(t: Target, p: Params, asText: boolean): string {
  if (t.system) throw new Error('a system column has no JSON path')
  const steps = t.declared ? t.field.path : [{ key: t.field.name as string | number, text: false }, ...t.field.path]
  let sql = t.declared ? columnRef(t.declared) : 't._extras'
  if (steps.length === 0) return asText ? `(${sql} #>> '{}')` : sql
  steps.forEach((step, i) => {
    const last = i === steps.length - 1
    const arrow = last && asText ? '->>' : '->'
    sql += ` ${arrow} ${typeof step.key === 'number' ? p.add(String(step.key), 'integer') : p.add(step.key, 'text')}`
  })
  return `(${sql})`
}

/** The value as JSON (jsonb); a JSON null is NULL, like a missing key. */
export function jsonExpr(t: Target, p: Params): string {
  if (t.system) return `to_jsonb(t.${t.system})`
  const column = typedColumn(t)
  if (column) return `to_jsonb(${column.type === 'timestamp' ? canonicalTimestampText(columnRef(column)) : columnRef(column)})`
  return `nullif(${pathExpr(t, p, false)}, 'null'::jsonb)`
}

/** The value as text: strings unquoted, numbers and booleans as their JSON text, NULL when missing or null. */
export function textExpr(t: Target, p: Params): string {
  if (t.system) return `t.${t.system}::text`
  const column = typedColumn(t)
  if (column) {
    const ref = columnRef(column)
    if (column.type === 'text') return ref
    if (column.type === 'timestamp') return canonicalTimestampText(ref)
    // As JSON writes the number: jsonb holds it as numeric, and prints it so.
    if (column.type === 'number') return `(to_jsonb(${ref}) #>> '{}')`
    return `(${ref})::text`
  }
  return pathExpr(t, p, true)
}

/** The value in the type it compares by: a declared column is the column itself, which its index is built on. */
export function valueExpr(t: Target, kind: Kind, p: Params): string {
  if (t.system) return `t.${t.system}`
  const column = typedColumn(t)
  if (column) return columnRef(column)
  return kind === 'json' ? jsonExpr(t, p) : textExpr(t, p)
}

/** The value as a row shows it in JSON: timestamps in the API's form, a JSON null as null. */
export function outputExpr(t: Target, p: Params, asText = false): string {
  if (t.system) return `t.${t.system}`
  const column = typedColumn(t)
  if (column) return column.type === 'timestamp' ? canonicalTimestampText(columnRef(column)) : columnRef(column)
  return pathExpr(t, p, asText)
}

/** Whether the value is missing or null. */
export function isNullExpr(t: Target, p: Params, negated: boolean): string {
  const column = typedColumn(t)
  return `(${column ? columnRef(column) : textExpr(t, p)} is ${negated ? 'not ' : ''}null)`
}

export function dynamicNumber(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'number' then ${j}::numeric end)`
}

export function dynamicBoolean(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'boolean' then ${j}::boolean end)`
}
