import { serviceSql, type Tenant } from './tenants.ts'

export interface DatasetOptions {
  name?: string
  columns?: { name: string; type: 'text' | 'number' | 'boolean' | 'timestamp' | 'json' }[]
  open?: boolean
  locked?: string[]
  /** Give the dataset to the tenant's first agent ('agent') or second ('otherAgent'). */
  agent?: 'agent' | 'otherAgent'
  /** Stored as they are, in order (arranged on the service connection, not through the API). */
  rows?: Record<string, unknown>[]
}

let counter = 0

/** A dataset of the tenant's, made straight in the database, with its rows. */
export async function createDataset(t: Tenant, o: DatasetOptions = {}): Promise<{ id: string; name: string }> {
  const sql = serviceSql()
  const name = o.name ?? `Dataset ${++counter} ${crypto.randomUUID().slice(0, 8)}`
  const agentId = o.agent === 'agent' ? t.agent.id : o.agent === 'otherAgent' ? t.otherAgent.id : null
  const columns = o.columns ?? []
  const [dataset] = await sql<{ id: string }[]>`
    insert into agentry.datasets (org_id, agent_id, name, columns, open, locked)
    values (${t.org.id}, ${agentId}, ${name}, ${sql.json(columns)}, ${o.open ?? columns.length === 0}, '{}')
    returning id`
  for (const row of o.rows ?? []) {
    await sql`select agentry.insert_dataset_rows(${dataset.id}, ${sql.json([row] as never)})`
  }
  // Locked once its rows are in: a lock holds against every writer, the service connection included.
  if (o.locked?.length) await sql`update agentry.datasets set locked = ${o.locked} where id = ${dataset.id}`
  return { id: dataset.id, name }
}
