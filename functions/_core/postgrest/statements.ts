// The query compiler: a parsed query (ast.ts) plus a dataset's columns → one parameterised SQL statement over the
// dataset's own table (`datasets."<dataset id>"`), read and written under its RLS policies. Every value, JSON
// key and array index is a bound parameter; the only text spliced into SQL is fixed by the compiler
// (operators, casts from a whitelist, parameter numbers) or made by the database (the table's name, the
// dataset id, and its columns' names, quoted). Each part that PostgreSQL may refuse on hostile input is noted
// on the statement (queryErrorFrom in ../errors.ts), so that an error can name it.
//
// This file makes the statements; its parts: field typing (fields.ts), literals (literals.ts), filters (filters.ts), select and order
// (select-order.ts), and the statement's parameters (params.ts).
import type { Field, Filter, OrderTerm, SelectItem } from './ast.ts'
import { columnRef, jsonExpr, kindOf, outputExpr, quoteIdent, resolve, sqlTypeOfColumn, tableOf, type RowShape } from './fields.ts'
import { compileFilters, type RowFilter } from './filters.ts'
import { Params, type Statement } from './params.ts'
import { compileOrder, compileSelect } from './select-order.ts'
import { pgTextArray } from './values.ts'

export interface RowQuery extends RowFilter {
  select: readonly SelectItem[] | null
  order: readonly OrderTerm[]
}

function whereClause(shape: RowShape, q: RowFilter, p: Params): string {
  const parts: string[] = []
  if (q.filters.length) parts.push(compileFilters(shape, q.filters, p))
  if (q.search) parts.push(`t.id in (select agentry.dataset_search_matches(${p.add(shape.id, 'uuid')}, ${p.add(q.search, 'text')}))`)
  return parts.length ? parts.join(' and ') : 'true'
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
    `select ${row} as row from ${tableOf(shape)} as t where ${where} order by ${order} ` +
    `limit ${p.add(String(page.limit), 'bigint')} offset ${p.add(String(page.offset), 'bigint')}) as page`
  return p.statement(text)
}

/** How many rows match (`total`), whatever the page. */
export function countRowsStatement(shape: RowShape, q: RowFilter): Statement {
  const p = new Params()
  return p.statement(`select count(*)::float8 as total from ${tableOf(shape)} as t where ${whereClause(shape, q, p)}`)
}

/** The matching rows, unshaped (`select 1`): what the planner is asked to estimate for a planned count. */
export function matchingRowsStatement(shape: RowShape, q: RowFilter): Statement {
  const p = new Params()
  return p.statement(`select 1 from ${tableOf(shape)} as t where ${whereClause(shape, q, p)}`)
}

/** The distinct values of one field among the matching rows, most frequent first, with the number of them. */
export function distinctValuesStatement(shape: RowShape, field: Field, q: RowFilter, page: { limit: number; offset: number }): Statement {
  const p = new Params()
  const t = resolve(shape, field)
  const kind = kindOf(t)
  const value = kind === 'dynamic' || kind === 'json' ? jsonExpr(t, p) : `to_jsonb(${outputExpr(t, p)})`
  const text =
    `with counted as (select ${value} as value, count(*) as n from ${tableOf(shape)} as t where ${whereClause(shape, q, p)} group by 1) ` +
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
    `with written as (${write} returning ${row} as row, t._seq as seq) ` +
    `select coalesce(json_agg(row order by seq), '[]')::text as rows, count(*)::float8 as count from written`
  )
}

export interface NewRow {
  id?: string
  data: Record<string, unknown>
}

/** A declared column's value in a row sent as JSON (`data`), in the column's type; a JSON null is NULL. */
function columnValue(column: RowShape['columns'][number], data: string, p: Params): string {
  const key = p.add(column.name, 'text')
  if (column.type === 'json') return `nullif(${data} -> ${key}, 'null'::jsonb)`
  if (column.type === 'text') return `(${data} ->> ${key})`
  return `(${data} ->> ${key})::${sqlTypeOfColumn[column.type]}`
}

/**
 * Inserts rows in order; `onConflict` on the row id merges into the stored row (the keys each row sends
 * replace theirs, the others stay) or keeps it.
 */
export function insertRowsStatement(
  shape: RowShape,
  rows: readonly NewRow[],
  options: { onConflict?: 'merge' | 'ignore' | null; returning?: Returning } = {},
): Statement {
  const p = new Params()
  const data = `(e.value -> 'data')`
  const names = shape.columns.map((c) => quoteIdent(c.column ?? c.name))
  const extras = shape.columns.length ? `${data} - ${p.add(pgTextArray(shape.columns.map((c) => c.name)), 'text[]')}` : data
  const values = [`coalesce((e.value ->> 'id')::uuid, gen_random_uuid())`, ...shape.columns.map((c) => columnValue(c, data, p)), extras]
  const conflict =
    options.onConflict === 'merge'
      ? ` on conflict (id) do update set ${mergeSet(shape, rows, p)}`
      : options.onConflict === 'ignore'
        ? ' on conflict (id) do nothing'
        : ''
  const insert =
    `insert into ${tableOf(shape)} as t (${['id', ...names, '_extras'].join(', ')}) ` +
    `select ${values.join(', ')} ` +
    `from jsonb_array_elements(${p.add(JSON.stringify(rows), 'jsonb')}) with ordinality as e(value, n) order by e.n${conflict}`
  p.suspect('data', 'the rows sent')
  return p.statement(writeResult(shape, insert, options.returning ?? null, p))
}

/**
 * An upsert's changes to a stored row: each declared column the incoming row sends, its undeclared keys merged.
 * Rows of one request may send different keys: a column some of them send is changed for those rows only.
 */
function mergeSet(shape: RowShape, rows: readonly NewRow[], p: Params): string {
  const addressed = rows.filter((r) => r.id !== undefined)
  const set: string[] = []
  for (const column of shape.columns) {
    const sending = addressed.filter((r) => Object.hasOwn(r.data, column.name))
    if (sending.length === 0) continue
    const name = quoteIdent(column.column ?? column.name)
    set.push(
      sending.length === addressed.length
        ? `${name} = excluded.${name}`
        : `${name} = case when excluded.id = any(${p.add(pgTextArray(sending.map((r) => r.id as string)), 'uuid[]')}) ` +
            `then excluded.${name} else ${columnRef(column)} end`,
    )
  }
  set.push('_extras = t._extras || excluded._extras', 'updated_at = now()')
  return set.join(', ')
}

/** A value sent for a declared column, as a parameter of the column's type. */
function patchValue(column: RowShape['columns'][number], value: unknown, p: Params): string {
  const type = sqlTypeOfColumn[column.type]
  if (value === null || value === undefined) return p.add(null, type)
  if (column.type === 'json') return p.add(JSON.stringify(value), type)
  return p.add(String(value), type)
}

/** Sets every matching row's declared columns the patch names, and merges its other keys into `_extras`. */
export function updateRowsStatement(shape: RowShape, q: RowFilter, patch: Record<string, unknown>, returning: Returning = null): Statement {
  const p = new Params()
  const set: string[] = []
  const extras: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(patch)) {
    const column = shape.columns.find((c) => c.name === key)
    if (column) set.push(`${quoteIdent(column.column ?? column.name)} = ${patchValue(column, value, p)}`)
    else extras[key] = value
  }
  if (Object.keys(extras).length) set.push(`_extras = t._extras || ${p.add(JSON.stringify(extras), 'jsonb')}`)
  set.push('updated_at = now()')
  const update = `update ${tableOf(shape)} as t set ${set.join(', ')} where ${whereClause(shape, q, p)}`
  p.suspect('data', 'the changes sent')
  return p.statement(writeResult(shape, update, returning, p))
}

export function deleteRowsStatement(shape: RowShape, q: RowFilter, returning: Returning = null): Statement {
  const p = new Params()
  return p.statement(writeResult(shape, `delete from ${tableOf(shape)} as t where ${whereClause(shape, q, p)}`, returning, p))
}

/** The filter that addresses one row by id. */
export function rowIdFilter(id: string): Filter {
  return { type: 'condition', negated: false, field: { name: 'id', path: [] }, operation: { op: 'eq', value: id } }
}
