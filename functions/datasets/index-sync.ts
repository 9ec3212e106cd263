// The `datasets.sync_indexes` job (payload { dataset_id }): makes the composite indexes on a dataset's table
// match its declared list, and builds its search index again after a change of columns. CREATE and DROP INDEX CONCURRENTLY cannot run in a transaction, so each is its own
// statement on a connection of the job's; reads and writes of the dataset go on meanwhile.
import type { Sql } from '../_core/db.ts'
import { type Job, type JobContext, type JobKind, PermanentJobError } from '../_core/jobs/types.ts'
import type { ColumnSpec } from '../_core/postgrest/fields.ts'
import { isUuid } from '../_core/uuid.ts'
import { keyParts } from './indexes.ts'

type Reserved = Awaited<ReturnType<Sql['reserve']>>

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`

/** How long a job waits for another sync of the same dataset to finish before it tries again later. */
const lockWaitMs = 60_000

/** Why a build failed, in the product's words (never PostgreSQL's text). */
function failureReason(error: { code?: string }): string | null {
  switch (error.code) {
    case '54000':
      return 'A value is too large for an index entry (a B-tree entry holds about 2,700 bytes); shorten it or index other columns.'
    case '57014':
      return 'The build took longer than the time allowed and was stopped; declare the index again to retry.'
    case '23505':
    case '42P07':
      return 'The index could not be built under its name; declare it again to retry.'
    case '42703':
      return 'A column of the index no longer exists in the dataset.'
    default:
      // Locks, connections and shutdowns pass: the job is tried again.
      return error.code && !/^(08|40|55|57P)/.test(error.code) ? `The build failed (SQLSTATE ${error.code}).` : null
  }
}

/** Two syncs of one dataset must not build at once; waiting inside a transaction would stall CONCURRENTLY's own waits. */
async function lockDataset(conn: Reserved, datasetId: string, signal: AbortSignal): Promise<void> {
  const until = Date.now() + lockWaitMs
  for (;;) {
    const [{ locked }] = await conn<{ locked: boolean }[]>`
      select pg_try_advisory_lock(hashtext('agentry.dataset_indexes'), hashtext(${datasetId})) as locked`
    if (locked) return
    if (Date.now() > until) throw new Error('Another sync of this dataset is still running')
    signal.throwIfAborted()
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function sync(conn: Reserved, job: Job, datasetId: string, signal: AbortSignal): Promise<void> {
  const [dataset] = await conn<{ columns: ColumnSpec[]; table: string | null; search_function: string; search_index: string }[]>`
    select columns, to_regclass(format('datasets.%I', id))::text as table,
      agentry.dataset_search_function(id) as search_function, agentry.dataset_search_index(id) as search_index
    from agentry.datasets where id = ${datasetId} and org_id = ${job.orgId}`
  // Gone: its table went with it, and its declared indexes too.
  if (!dataset) return
  if (!dataset.table) throw new Error('The dataset has no table yet')
  const table = `datasets.${quoted(datasetId)}`
  await syncSearchIndex(conn, table, datasetId, dataset, signal)
  const wanted = await conn<{ index_name: string; keys: string[]; state: string }[]>`
    select index_name, keys, state from agentry.dataset_indexes where dataset_id = ${datasetId} order by position`
  const present = await conn<{ name: string; valid: boolean }[]>`
    select c.relname as name, i.indisvalid as valid
    from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = ${dataset.table}::regclass and c.relname like 'dx\\_%'`
  const valid = new Set(present.filter((p) => p.valid).map((p) => p.name))

  for (const p of present) {
    // Not wanted any more, or left invalid by a build that stopped halfway.
    if (!wanted.some((w) => w.index_name === p.name) || !p.valid) {
      signal.throwIfAborted()
      await conn.unsafe(`drop index concurrently if exists datasets.${quoted(p.name)}`)
    }
  }
  const record = (name: string, state: 'ready' | 'failed', reason: string | null) => conn`
    update agentry.dataset_indexes set state = ${state}, reason = ${reason}
    where dataset_id = ${datasetId} and org_id = ${job.orgId} and index_name = ${name}
      and (state, reason) is distinct from (${state}, ${reason})`

  for (const w of wanted) {
    if (valid.has(w.index_name)) {
      await record(w.index_name, 'ready', null)
      continue
    }
    const keys = w.keys.map((k) => keyParts(k, dataset.columns))
    if (keys.some((k) => k === null)) {
      await record(w.index_name, 'failed', 'A column of the index no longer exists in the dataset.')
      continue
    }
    signal.throwIfAborted()
    // Rows in the same place of an order come in insertion order (`_seq`, select-order.ts): ending with it, the
    // index gives the whole order the compiler asks for, and no sort is left to do.
    const list = [...keys.map((k) => `${quoted(k!.column)}${k!.desc ? ' desc' : ''}`), '_seq'].join(', ')
    try {
      await conn.unsafe(`create index concurrently if not exists ${quoted(w.index_name)} on ${table} (${list})`)
      await record(w.index_name, 'ready', null)
    } catch (error) {
      await conn.unsafe(`drop index concurrently if exists datasets.${quoted(w.index_name)}`).catch(() => {})
      const reason = failureReason(error as { code?: string })
      if (reason === null) throw error
      await record(w.index_name, 'failed', reason)
    }
  }
}

/**
 * The GIN index of the rows' search document, which a change of columns drops (sql/20261201000046_dataset_search_index.sql):
 * built again, or again from scratch when a build stopped halfway. Until it is ready, search reads the table.
 */
async function syncSearchIndex(
  conn: Reserved,
  table: string,
  datasetId: string,
  names: { search_function: string; search_index: string },
  signal: AbortSignal,
): Promise<void> {
  const [present] = await conn<{ valid: boolean }[]>`
    select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid
    where i.indrelid = ${table}::regclass and c.relname = ${names.search_index}`
  if (present?.valid) return
  signal.throwIfAborted()
  if (present) await conn.unsafe(`drop index concurrently if exists datasets.${quoted(names.search_index)}`)
  await conn.unsafe(
    `create index concurrently if not exists ${quoted(names.search_index)} on ${table} using gin (${names.search_function}(${quoted(datasetId)}))`,
  )
}

async function syncIndexes(job: Job, ctx: JobContext): Promise<void> {
  const datasetId = job.payload.dataset_id
  if (typeof datasetId !== 'string' || !isUuid(datasetId)) throw new PermanentJobError('The job names no dataset')
  const conn = await ctx.sql.reserve()
  try {
    await lockDataset(conn, datasetId, ctx.signal)
    try {
      await sync(conn, job, datasetId, ctx.signal)
    } finally {
      await conn`select pg_advisory_unlock(hashtext('agentry.dataset_indexes'), hashtext(${datasetId}))`
    }
  } finally {
    conn.release()
  }
}

export const syncIndexesJob: JobKind = { run: syncIndexes }
