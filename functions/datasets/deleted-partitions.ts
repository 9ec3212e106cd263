// The rows of deleted datasets, removed without locking other tenants out of the rows table. A deletion
// marks its dataset's partition (sql/20261130000006_dataset_guards.sql); this detaches each marked partition
// CONCURRENTLY, which takes only SHARE UPDATE EXCLUSIVE on the parent, and then drops the detached table,
// which locks nothing but itself. Run after every deletion, and by the worker to sweep up what a crash left.
import { database, type Sql, type Tx } from '../_core/db.ts'

/** Sweeps in different processes take turns: PostgreSQL lets one partition of a table be pending detach. */
const sweepLock = 'agentry.deleted_dataset_partitions'
/** How long one detach may wait for transactions still reading the rows table before it gives up. */
const detachTimeoutMs = 60_000
/** While another process sweeps, how often and how many times to ask again, holding no connection. */
const busyRetryMs = 1000
const busyRetries = 30
const partitionName = /^dataset_rows_[0-9a-f]{32}$/

let sweeping: Promise<void> | null = null
let sweepAgain = false

/**
 * Detaches and drops every marked partition, and forgets its marker. A partition that fails stays marked
 * for the next sweep; the error is reported to `onError` and the others go on. Never rejects. Called while
 * a sweep of this process runs, it has that sweep go round once more, so concurrent deletions never hold
 * more than one connection.
 */
export function dropDeletedPartitions(sql: Sql = database(), onError: (error: unknown) => void = logError): Promise<void> {
  if (sweeping) {
    sweepAgain = true
    return sweeping
  }
  sweeping = (async () => {
    do {
      sweepAgain = false
      await sweep(sql, onError).catch(onError)
    } while (sweepAgain)
  })().finally(() => {
    sweeping = null
  })
  return sweeping
}

async function sweep(sql: Sql, onError: (error: unknown) => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const conn = await sql.reserve()
    try {
      const [{ locked }] = await conn<{ locked: boolean }[]>`select pg_try_advisory_lock(hashtext(${sweepLock})) as locked`
      if (locked) return await sweepLocked(conn, onError)
    } finally {
      conn.release()
    }
    // Another process is sweeping; it may have looked for markers before this one's was made.
    if (attempt === busyRetries) return
    await new Promise((resolve) => setTimeout(resolve, busyRetryMs))
  }
}

/** The sweep itself, on a connection holding the sweep lock, which it gives back. */
async function sweepLocked(conn: Tx, onError: (error: unknown) => void): Promise<void> {
  try {
    await conn.unsafe(`select set_config('statement_timeout', '${detachTimeoutMs}', false)`)
    // A detach interrupted mid-way (a crash, a timeout) leaves its partition pending, and no other
    // partition can be detached concurrently until it is finished.
    for (const { partition } of await conn<{ partition: string }[]>`
      select c.relname as partition from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'agentry.dataset_rows'::regclass and i.inhdetachpending`) {
      await conn.unsafe(`alter table agentry.dataset_rows detach partition agentry.${quoted(partition)} finalize`).catch(onError)
    }
    // Markers made while this runs are taken too; each is tried once per sweep.
    const tried = new Set<string>()
    for (;;) {
      const marked = await conn<{ partition: string }[]>`
        select partition from agentry.deleted_dataset_partitions
        where not partition = any(${[...tried]}::text[]) order by deleted_at limit 100`
      if (marked.length === 0) break
      for (const { partition } of marked) {
        tried.add(partition)
        await dropPartition(conn, partition).catch(onError)
      }
    }
  } finally {
    await conn`reset statement_timeout`.catch(() => {})
    await conn`select pg_advisory_unlock(hashtext(${sweepLock}))`.catch(() => {})
  }
}

async function dropPartition(conn: Tx, partition: string): Promise<void> {
  if (!partitionName.test(partition)) throw new Error(`not a dataset partition: ${partition}`)
  const table = `agentry.${quoted(partition)}`
  const [state] = await conn<{ attached: boolean; pending: boolean }[]>`
    select i.inhrelid is not null as attached, coalesce(i.inhdetachpending, false) as pending
    from (select to_regclass(${table}) as oid) t
    left join pg_inherits i on i.inhrelid = t.oid and i.inhparent = 'agentry.dataset_rows'::regclass
    where t.oid is not null`
  if (state?.attached) {
    await conn.unsafe(`alter table agentry.dataset_rows detach partition ${table} ${state.pending ? 'finalize' : 'concurrently'}`)
  }
  await conn.unsafe(`drop table if exists ${table}`)
  await conn`delete from agentry.deleted_dataset_partitions where partition = ${partition}`
}

function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`
}

function logError(error: unknown): void {
  console.error("dropping a deleted dataset's rows:", error instanceof Error ? error.message : error)
}
