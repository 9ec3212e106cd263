// The usage ledger's daily sums are kept in shards so that concurrent calls do not queue on one row; once a
// day is past, the job runners' hourly sweep folds its shards into one row a key (agentry.fold_usage_shards).
import type { Sql } from './db.ts'

/** Folds the shards of every day before today; returns how many summed rows were written. */
export async function foldUsageShards(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select agentry.fold_usage_shards()::float8 as n`
  return row.n
}
