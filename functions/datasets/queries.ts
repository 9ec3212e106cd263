import type { Tx } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import type { ColumnSpec } from '../_core/postgrest/fields.ts'
import { isUuid } from '../_core/uuid.ts'
import type { DatasetIndexState } from './indexes.ts'
import type { LockableOperation } from './schemas.ts'

export interface DatasetRow {
  id: string
  name: string
  description: string | null
  agent_id: string | null
  columns: ColumnSpec[]
  open: boolean
  locked: LockableOperation[]
  row_count: number
  indexes: DatasetIndexState[]
  created_at: string
  updated_at: string
}

const datasetColumns = (tx: Tx) => tx`
  id, name, description, agent_id, columns, open, locked, row_count::float8 as row_count, agentry.dataset_index_states(id) as indexes,
  to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`

/** RLS decides which datasets the caller sees: the organisation's, or an agent key's own agent's. */
export async function listDatasets(tx: Tx): Promise<DatasetRow[]> {
  return tx<DatasetRow[]>`select ${datasetColumns(tx)} from agentry.datasets order by created_at, id`
}

export async function findDataset(tx: Tx, id: string): Promise<DatasetRow | undefined> {
  const [row] = await tx<DatasetRow[]>`select ${datasetColumns(tx)} from agentry.datasets where id = ${id}`
  return row
}

/** By name first (names are unique in an organisation), else by id. */
export async function findDatasetByName(tx: Tx, nameOrId: string): Promise<DatasetRow | undefined> {
  const [row] = await tx<DatasetRow[]>`
    select ${datasetColumns(tx)} from agentry.datasets
    where name = ${nameOrId} ${isUuid(nameOrId) ? tx`or id = ${nameOrId}::uuid` : tx``}
    order by (name = ${nameOrId}) desc limit 1`
  return row
}

export interface NewDataset {
  orgId: string
  agentId: string | null
  name: string
  description: string | null
  columns: ColumnSpec[]
  open: boolean
  locked: LockableOperation[]
}

export async function insertDataset(tx: Tx, d: NewDataset): Promise<DatasetRow> {
  const [row] = await tx<DatasetRow[]>`
    insert into agentry.datasets (org_id, agent_id, name, description, columns, open, locked)
    values (${d.orgId}, ${d.agentId}, ${d.name}, ${d.description}, ${tx.json(d.columns as never)}, ${d.open}, ${d.locked})
    returning ${datasetColumns(tx)}`
  return row
}

export type DatasetChanges = Partial<Pick<DatasetRow, 'name' | 'description' | 'columns' | 'open' | 'locked'>>

export async function updateDataset(tx: Tx, id: string, changes: DatasetChanges): Promise<DatasetRow | undefined> {
  const set = {
    ...changes,
    ...(changes.columns ? { columns: tx.json(changes.columns as never) } : {}),
  }
  if (Object.keys(set).length === 0) return findDataset(tx, id)
  const [row] = await tx<DatasetRow[]>`
    update agentry.datasets set ${tx(set as Record<string, unknown>, ...(Object.keys(set) as never[]))}
    where id = ${id} returning ${datasetColumns(tx)}`
  return row
}

export async function deleteDataset(tx: Tx, id: string): Promise<DatasetRow | undefined> {
  const [row] = await tx<DatasetRow[]>`delete from agentry.datasets where id = ${id} returning ${datasetColumns(tx)}`
  return row
}

/**
 * The first stored row that would not fit the new columns (a value of another type, or an undeclared key
 * when the dataset closes), so a change to the columns never leaves rows that break them.
 */
export async function firstMisfitRow(
  tx: Tx,
  id: string,
  columns: ColumnSpec[],
  open: boolean,
): Promise<{ id: string; column: string; problem: string } | undefined> {
  const [row] = await tx<{ id: string; column: string; problem: string }[]>`
    select id, column_name as column, problem
    from agentry.first_misfit_dataset_row(${id}, ${tx.json(columns.map(({ name, type }) => ({ name, type })) as never)}, ${open})`
  return row
}

/** The dataset as the API shows it: its columns without the table column each is stored in. */
export function datasetJson<D extends DatasetRow>(dataset: D): D {
  return { ...dataset, columns: dataset.columns.map(({ name, type }) => ({ name, type })) }
}

/**
 * A schema change or a deletion gave up waiting for the dataset's table (lock_timeout, set by the database
 * so that it never queues the dataset's readers behind it): the client may try again in a moment.
 */
export function whenTableBusy(error: unknown): never {
  if ((error as { code?: string }).code === '55P03') {
    throw new ApiError('conflict', "The dataset's rows are in use by a long request; try again in a moment.")
  }
  throw error
}

const lockWords: Record<LockableOperation, string> = {
  read: 'reading',
  insert: 'inserting rows',
  update: 'updating rows',
  delete: 'deleting rows',
}

/** The dataset, visible to this caller and open to the operation, as the row engine needs it. */
export async function datasetFor(tx: Tx, id: string, operation: LockableOperation): Promise<DatasetRow> {
  const dataset = await findDataset(tx, id)
  if (!dataset) throw notFound('Dataset')
  refuseIfLocked(dataset, operation)
  return dataset
}

export function refuseIfLocked(dataset: DatasetRow, operation: LockableOperation) {
  if (dataset.locked.includes(operation)) {
    throw new ApiError('insufficient_scope', `Dataset "${dataset.name}" is locked for ${lockWords[operation]}.`)
  }
}
