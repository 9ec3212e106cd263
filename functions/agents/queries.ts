import type { Tx } from '../_core/db.ts'

export interface AgentRow {
  id: string
  name: string
  description: string | null
  instructions: string
  model: string | null
  temperature: number | null
  max_output_tokens: number | null
  status: 'active' | 'paused'
  metadata: Record<string, unknown>
  created_at: string
  updated_at: string
}

const agentColumns = (tx: Tx) => tx`
  id, name, description, instructions, model, temperature::float8 as temperature, max_output_tokens, status, metadata,
  to_json(created_at) #>> '{}' as created_at, to_json(updated_at) #>> '{}' as updated_at`

/** RLS decides which agents the caller sees: the organisation's, or an agent key's own. */
export async function listAgents(tx: Tx): Promise<AgentRow[]> {
  return tx<AgentRow[]>`select ${agentColumns(tx)} from agentry.agents order by created_at, id`
}

export async function findAgent(tx: Tx, id: string): Promise<AgentRow | undefined> {
  const [row] = await tx<AgentRow[]>`select ${agentColumns(tx)} from agentry.agents where id = ${id}`
  return row
}

export type AgentFields = Partial<Omit<AgentRow, 'id' | 'created_at' | 'updated_at'>>

export async function insertAgent(tx: Tx, orgId: string, a: AgentFields & { name: string }): Promise<AgentRow> {
  const row = { org_id: orgId, ...withJson(tx, a) }
  const [created] = await tx<AgentRow[]>`
    insert into agentry.agents ${tx(row as Record<string, unknown>, ...(Object.keys(row) as never[]))} returning ${agentColumns(tx)}`
  return created
}

export async function updateAgent(tx: Tx, id: string, a: AgentFields): Promise<AgentRow | undefined> {
  const set = withJson(tx, a)
  if (Object.keys(set).length === 0) return findAgent(tx, id)
  const [row] = await tx<AgentRow[]>`
    update agentry.agents set ${tx(set as Record<string, unknown>, ...(Object.keys(set) as never[]))} where id = ${id}
      returning ${agentColumns(tx)}`
  return row
}

export async function deleteAgent(tx: Tx, id: string): Promise<AgentRow | undefined> {
  const [row] = await tx<AgentRow[]>`delete from agentry.agents where id = ${id} returning ${agentColumns(tx)}`
  return row
}

function withJson(tx: Tx, a: AgentFields): Record<string, unknown> {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined))
  if (a.metadata) out.metadata = tx.json(a.metadata as never)
  return out
}
