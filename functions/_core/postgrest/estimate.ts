// Counting the matching rows exactly, by the planner's estimate, or exactly only while that estimate is small:
// PostgREST's count=exact|planned|estimated. An exact count reads every matching row; the planner's estimate
// costs one EXPLAIN, whatever the table's size.
import type { Tx } from '../db.ts'
import { readEnv } from '../env.ts'
import { queryErrorFrom } from '../errors.ts'
import type { RowShape } from './fields.ts'
import type { RowFilter } from './filters.ts'
import type { Statement } from './params.ts'
import { readRows, type Page } from './rows.ts'
import { countRowsStatement, matchingRowsStatement, selectsEverything, type RowQuery } from './statements.ts'

export const countModes = ['exact', 'planned', 'estimated'] as const
export type CountMode = (typeof countModes)[number]

/** Above this many estimated rows, count=estimated gives the estimate (ROW_COUNT_ESTIMATE_THRESHOLD, default 10,000). */
export const estimateThreshold = Number(readEnv('ROW_COUNT_ESTIMATE_THRESHOLD') ?? 10_000)

export interface Counted {
  total: number
  /** Whether `total` is the planner's estimate rather than a count. */
  estimated: boolean
}

interface PlanNode {
  'Plan Rows'?: number
}

async function run<T extends object>(tx: Tx, statement: Statement, prefix = ''): Promise<T[]> {
  try {
    return (await tx.unsafe(prefix + statement.text, statement.params, { prepare: false })) as unknown as T[]
  } catch (error) {
    throw queryErrorFrom(error, statement.suspects) ?? error
  }
}

/**
 * The planner's estimate of the matching rows: EXPLAIN of the rows themselves (not of a count, whose plan
 * answers one row), with the values bound as in the real statement so the estimate is for these values.
 *
 * Asked without the table's policies, in the same transaction: under them every estimate shrinks to a row or
 * so, because the planner cannot see through a policy's quals (each compares an InitPlan, at a default
 * selectivity of 0.5 %). Nothing is read, and nothing is learnt beyond what the caller may read anyway: the
 * table holds this dataset's rows only and its policies' constants are the dataset's own, so a caller who was
 * shown the dataset may read every row of it. A failed EXPLAIN aborts the transaction, and the role with it.
 */
export async function plannedCount(tx: Tx, shape: RowShape, q: RowFilter): Promise<number> {
  const statement = matchingRowsStatement(shape, q)
  await tx.unsafe('set local role none')
  const [row] = await run<{ 'QUERY PLAN': [{ Plan: PlanNode }] | string }>(tx, statement, 'explain (format json) ')
  await tx.unsafe('set local role authenticated')
  const plan = row['QUERY PLAN']
  const [{ Plan }] = typeof plan === 'string' ? (JSON.parse(plan) as [{ Plan: PlanNode }]) : plan
  return Math.max(0, Math.round(Plan['Plan Rows'] ?? 0))
}

/** How many rows match, counted as `mode` says. Unfiltered, the dataset's kept row count is exact and free. */
export async function countRows(tx: Tx, shape: RowShape & { row_count: number }, q: RowFilter, mode: CountMode): Promise<Counted> {
  if (mode === 'planned') return { total: await plannedCount(tx, shape, q), estimated: true }
  if (selectsEverything(q)) return { total: shape.row_count, estimated: false }
  if (mode === 'estimated') {
    const planned = await plannedCount(tx, shape, q)
    if (planned > estimateThreshold) return { total: planned, estimated: true }
  }
  const [{ total }] = await run<{ total: number }>(tx, countRowsStatement(shape, q))
  return { total, estimated: false }
}

/**
 * A page of rows and the total counted as `mode` says (null: no total). An exact count goes with the page in
 * one round trip, as readRows sends it; the others come after the page, once the query is known to compile.
 */
export async function readCountedRows(
  tx: Tx,
  shape: RowShape & { row_count: number },
  q: RowQuery,
  page: Page,
  mode: CountMode | null,
): Promise<{ rows: string; returned: number; total: number | null; estimated: boolean }> {
  if (mode === null || mode === 'exact') return { ...(await readRows(tx, shape, q, page, mode === 'exact')), estimated: false }
  const { rows, returned } = await readRows(tx, shape, q, page, false)
  return { rows, returned, ...(await countRows(tx, shape, q, mode)) }
}
