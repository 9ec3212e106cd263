// Runs compiled row statements inside a tenant transaction. Rows come back from PostgreSQL as JSON text,
// already shaped and ordered, and are passed to the client as they are.
import type { Field } from './ast.ts'
import type { Tx } from '../db.ts'
import type { RowShape } from './fields.ts'
import type { RowFilter } from './filters.ts'
import type { Statement } from './params.ts'
import {
  countRowsStatement,
  deleteRowsStatement,
  distinctValuesStatement,
  insertRowsStatement,
  selectRowsStatement,
  selectsEverything,
  updateRowsStatement,
  type NewRow,
  type Returning,
  type RowQuery,
} from './statements.ts'
import { notFound, queryErrorFrom } from '../errors.ts'
import { readEnv } from '../env.ts'

/** How long one row query may run before PostgreSQL cancels it (ROW_QUERY_TIMEOUT_MS, default 5 s). */
export const rowQueryTimeoutMs = Number(readEnv('ROW_QUERY_TIMEOUT_MS') ?? 5000)

export interface Page {
  limit: number
  offset: number
}

/** Written rows: the affected rows as JSON array text, and how many there were. */
export interface Written {
  rows: string
  count: number
}

// Dataset queries differ in shape from request to request: planned once each (unnamed statements) rather
// than kept as prepared statements that would pile up on every connection.
async function run<T extends object>(tx: Tx, statement: Statement): Promise<T[]> {
  try {
    return (await tx.unsafe(statement.text, statement.params, { prepare: false })) as unknown as T[]
  } catch (error) {
    // The dataset's table went with the dataset, deleted while this request ran.
    if ((error as { code?: string }).code === '42P01') throw notFound('Dataset')
    throw queryErrorFrom(error, statement.suspects) ?? error
  }
}

/**
 * One page of rows and, when `count` is asked for, how many rows match: the dataset's kept row count when
 * nothing is filtered, else a count sent in the same round trip as the page.
 */
export async function readRows(
  tx: Tx,
  shape: RowShape & { row_count: number },
  q: RowQuery,
  page: Page,
  count = true,
): Promise<{ rows: string; returned: number; total: number | null }> {
  // Both compiled before either runs: a query the compiler refuses must leave no statement running unawaited.
  const select = selectRowsStatement(shape, q, page)
  const counting = count && !selectsEverything(q) ? countRowsStatement(shape, q) : null
  const [[{ rows, returned }], counted] = await Promise.all([
    run<{ rows: string; returned: number }>(tx, select),
    counting ? run<{ total: number }>(tx, counting) : null,
  ])
  return { rows, returned, total: counted ? counted[0].total : count ? shape.row_count : null }
}

export async function readDistinct(
  tx: Tx,
  shape: RowShape,
  field: Field,
  q: RowFilter,
  page: Page,
): Promise<{ values: string; totalUnique: number }> {
  const [row] = await run<{ values: string; total_unique: number }>(tx, distinctValuesStatement(shape, field, q, page))
  return { values: row.values, totalUnique: row.total_unique }
}

export async function insertRows(
  tx: Tx,
  shape: RowShape,
  rows: readonly NewRow[],
  options: { onConflict?: 'merge' | 'ignore' | null; returning?: Returning } = {},
): Promise<Written> {
  const [written] = await run<Written>(tx, insertRowsStatement(shape, rows, options))
  return written
}

export async function updateRows(
  tx: Tx,
  shape: RowShape,
  q: RowFilter,
  patch: Record<string, unknown>,
  returning: Returning = null,
): Promise<Written> {
  const [written] = await run<Written>(tx, updateRowsStatement(shape, q, patch, returning))
  return written
}

export async function deleteRows(tx: Tx, shape: RowShape, q: RowFilter, returning: Returning = null): Promise<Written> {
  const [written] = await run<Written>(tx, deleteRowsStatement(shape, q, returning))
  return written
}
