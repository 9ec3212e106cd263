// A dataset's composite indexes (`indexes: [["status", "score desc"]]`): checked against its columns, stored as
// the wanted state (agentry.dataset_indexes, sql/20261130000038_dataset_indexes.sql), and built or dropped
// CONCURRENTLY by the `datasets.sync_indexes` job (index-sync.ts), so that no request waits for a build.
import { z } from '@hono/zod-openapi'
import type { Tx } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { enqueueJob } from '../_core/jobs/queue.ts'
import type { ColumnSpec } from '../_core/postgrest/fields.ts'

export const syncIndexesKind = 'datasets.sync_indexes'

/** Beside the one B-tree per declared column: each more index slows every write a little. */
export const indexLimits = { perDataset: 5, keys: 4 } as const

export const IndexDeclarations = z
  .array(z.array(z.string().min(1).max(140)).min(1).max(indexLimits.keys))
  .max(indexLimits.perDataset)
  .openapi({
    description:
      `Composite indexes, each a list of declared columns, \`desc\` after a name for a descending key: ` +
      `\`[["status", "score desc"]]\` serves \`status=eq.x&order=score.desc\`. At most ${indexLimits.perDataset}, ` +
      `of up to ${indexLimits.keys} columns each. The full list: an index left out is dropped.`,
    example: [['status', 'score desc']],
  })

export const DatasetIndex = z
  .object({
    columns: z.array(z.string()).openapi({ example: ['status', 'score desc'] }),
    state: z.enum(['building', 'ready', 'failed']).openapi({ description: 'Built in the background; queries use it once ready.' }),
    reason: z.string().nullable().openapi({ description: 'Why the build failed; declare the index again to retry.' }),
  })
  .openapi('DatasetIndex')

export type DatasetIndexState = z.infer<typeof DatasetIndex>

const refused = (message: string) =>
  new ApiError('validation_failed', `Invalid request: ${message}`, { fields: [{ field: 'indexes', message }] })

/** One key of an index: a declared column's name, with ` desc` after it when descending. */
function indexKey(text: string, columns: readonly ColumnSpec[], where: string): { name: string; desc: boolean } {
  // A column's own name wins over reading a trailing word as the direction.
  const exact = columns.find((c) => c.name === text)
  const directed = exact ? null : /^(.*\S)\s+(asc|desc)$/i.exec(text)
  const name = exact ? text : directed ? directed[1] : text
  const column = exact ?? columns.find((c) => c.name === name)
  if (!column) throw refused(`${where}: "${text}" is not a declared column (add "asc" or "desc" after a column's name, or nothing).`)
  if (column.type === 'json') throw refused(`${where}: "${name}" is a json column, which a B-tree index cannot order usefully.`)
  return { name, desc: directed?.[2].toLowerCase() === 'desc' }
}

/** The declared indexes checked against the columns, each key written as shown (`score desc`, `status`). */
export function declaredIndexes(declared: readonly (readonly string[])[], columns: readonly ColumnSpec[]): string[][] {
  const seen = new Map<string, number>()
  return declared.map((keys, i) => {
    const named = new Set<string>()
    const shown = keys.map((text, k) => {
      const { name, desc } = indexKey(text, columns, `indexes[${i}][${k}]`)
      if (named.has(name)) throw refused(`indexes[${i}] names "${name}" twice.`)
      named.add(name)
      return desc ? `${name} desc` : name
    })
    const signature = JSON.stringify(shown)
    const earlier = seen.get(signature)
    if (earlier !== undefined) throw refused(`indexes[${i}] is the same index as indexes[${earlier}].`)
    seen.set(signature, i)
    return shown
  })
}

/** The physical column behind a shown key, and its direction: for the job that writes the DDL. */
export function keyParts(shown: string, columns: readonly ColumnSpec[]): { column: string; desc: boolean } | null {
  const desc = shown.endsWith(' desc') && !columns.some((c) => c.name === shown)
  const name = desc ? shown.slice(0, -' desc'.length) : shown
  const spec = columns.find((c) => c.name === name)
  return spec ? { column: (spec as { column?: string }).column ?? spec.name, desc } : null
}

/** The dataset's indexes in the declared order, as the API shows them. */
export async function indexStates(tx: Tx, datasetId: string): Promise<DatasetIndexState[]> {
  const [row] = await tx<{ indexes: DatasetIndexState[] }[]>`select agentry.dataset_index_states(${datasetId}) as indexes`
  return row.indexes
}

/**
 * Makes `indexes` the dataset's declared list, in the tenant's transaction: new ones (and failed ones declared
 * again) start `building`, left-out ones go. The sync job, queued with the change, does the DDL once it commits.
 */
export async function declareIndexes(tx: Tx, datasetId: string, indexes: readonly string[][]): Promise<void> {
  const wanted = tx.json(indexes as never)
  const gone = await tx`
    delete from agentry.dataset_indexes i
    where i.dataset_id = ${datasetId}
      and (i.state = 'failed' or not exists (
        select 1 from jsonb_array_elements(${wanted}) as w(keys)
        where array(select jsonb_array_elements_text(w.keys)) = i.keys))`
  const added = await tx<{ added: boolean }[]>`
    insert into agentry.dataset_indexes as i (dataset_id, org_id, agent_id, position, keys, index_name)
    select d.id, d.org_id, d.agent_id, (w.n - 1)::integer, k.keys, agentry.dataset_index_name(d.id, k.keys)
    from agentry.datasets d
      cross join jsonb_array_elements(${wanted}) with ordinality as w(keys, n)
      cross join lateral (select array(select jsonb_array_elements_text(w.keys)) as keys) as k
    where d.id = ${datasetId}
    on conflict (dataset_id, index_name) do update set position = excluded.position
    returning (xmax = 0) as added`
  if (gone.count > 0 || added.some((r) => r.added)) {
    await enqueueJob(tx, syncIndexesKind, { dataset_id: datasetId }, { dedupeKey: datasetId })
  }
}

/** The dataset with `indexes` as its declared list, and their states as they now stand. */
export async function withIndexes<D extends { id: string; indexes: DatasetIndexState[] }>(
  tx: Tx,
  dataset: D,
  indexes: readonly string[][],
): Promise<D> {
  if (indexes.length === 0 && dataset.indexes.length === 0) return dataset
  await declareIndexes(tx, dataset.id, indexes)
  return { ...dataset, indexes: await indexStates(tx, dataset.id) }
}
