// Field typing: what a field of a query names in a dataset's rows (a system column, a declared column, an
// undeclared key of an open dataset, a JSON path), how its values compare, and the SQL that reads them.
//
// A declared column compares by its type: numbers as numbers, timestamps as instants (stored
// canonically, see values.ts), text as text, booleans as booleans. An undeclared key of an open dataset,
// and a JSON path ending in `->>`, compare as text, except that a range operator (gt, lt …) with a numeric
// literal compares numbers as numbers. A path ending in `->` compares as JSON. A missing key is NULL.
import type { Field } from './ast.ts'
import { ApiError } from '../errors.ts'
import type { Params } from './params.ts'
import type { ColumnType } from './values.ts'

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

/** Keys every row has besides its data, in the order `select=*` lists them. */
export const systemColumns = ['id', 'created_at', 'updated_at'] as const
type SystemColumn = (typeof systemColumns)[number]

export const invalid = (message: string) => new ApiError('invalid_query', message)

export type Target = { system: SystemColumn; field: Field } | { system: null; field: Field; declared: ColumnType | null }

/** How values of a target compare. */
export type Kind = 'uuid' | 'timestamptz' | 'text' | 'number' | 'boolean' | 'timestamp' | 'dynamic' | 'json'

export function fieldLabel(field: Field): string {
  return field.name + field.path.map((s) => `${s.text ? '->>' : '->'}${s.key}`).join('')
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
    return { system: null, field, declared: column.type }
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
  return t.declared === null || t.declared === 'json' ? 'dynamic' : t.declared
}

/** `data -> k1 -> k2 …`; the last step as `->>` when `asText`. */
export function pathExpr(field: Field, p: Params, asText: boolean): string {
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
export function jsonExpr(t: Target, p: Params): string {
  if (t.system) return `to_jsonb(${t.system})`
  return `nullif(${pathExpr(t.field, p, false)}, 'null'::jsonb)`
}

/** The value as text: strings unquoted, numbers and booleans as their JSON text, NULL when missing or null. */
export function textExpr(t: Target, p: Params): string {
  if (t.system) return `${t.system}::text`
  return pathExpr(t.field, p, true)
}

/** The value in the type it compares by. Declared columns use exactly the expression their index is built on. */
export function valueExpr(t: Target, kind: Kind, p: Params): string {
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

export function dynamicNumber(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'number' then ${j}::numeric end)`
}

export function dynamicBoolean(t: Target, p: Params): string {
  const j = jsonExpr(t, p)
  return `(case when jsonb_typeof(${j}) = 'boolean' then ${j}::boolean end)`
}
