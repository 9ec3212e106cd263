// The query compiler: a parsed query (ast.ts) plus a dataset's columns → one parameterised SQL statement over the
// dataset's rows (read through agentry.visible_dataset_rows, written in agentry.dataset_rows). Every value,
// JSON key and array index is a bound parameter; the only text spliced into SQL is fixed by the compiler
// (operators, casts from a whitelist, parameter numbers). Each part that PostgreSQL may refuse on hostile
// input is noted on the statement (queryErrorFrom in ../errors.ts), so that an error can name it.
//
// This file makes the statements; its parts: field typing (fields.ts), literals (literals.ts), filters (filters.ts), select and order
// (select-order.ts), and the statement's parameters (params.ts).
import type { Field, Filter, OrderTerm, SelectItem } from './ast.ts'
import { jsonExpr, kindOf, resolve, valueExpr, type RowShape } from './fields.ts'
import { compileFilters, type RowFilter } from './filters.ts'
import { Params, type Statement } from './params.ts'
import { compileOrder, compileSelect } from './select-order.ts'

export interface RowQuery extends RowFilter {
  select: readonly SelectItem[] | null
  order: readonly OrderTerm[]
}

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

/** The matching rows, unshaped (`select 1`): what the planner is asked to estimate for a planned count. */
export function matchingRowsStatement(shape: RowShape, q: RowFilter): Statement {
  const p = new Params()
  return p.statement(`select 1 from ${visibleRows} where ${whereClause(shape, q, p)}`)
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
