import type { Tx } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'

export interface DeploymentRow {
  id: string
  agent_id: string
  environment: string
  version: number
  configuration: Record<string, unknown>
  active: boolean
  rolled_back_from: string | null
  restored_from: string | null
  created_at: string
}

const columns = (tx: Tx) => tx`
  d.id, d.agent_id, d.environment, d.version, d.configuration, d.active, d.rolled_back_from, d.restored_from,
  to_json(d.created_at) #>> '{}' as created_at`

const position = (tx: Tx) => tx`to_char(d.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || d.id as position`

/** Newest first; RLS keeps an agent key to its own agent's deployments. */
export function listDeployments(tx: Tx, q: { agent_id?: string; environment?: string; active?: boolean; limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(DeploymentRow & { position: string })[]>`
    select ${columns(tx)}, ${position(tx)} from agentry.deployments d
    where true
      ${q.agent_id ? tx`and d.agent_id = ${q.agent_id}` : tx``}
      ${q.environment ? tx`and d.environment = ${q.environment}` : tx``}
      ${q.active === undefined ? tx`` : tx`and d.active = ${q.active}`}
      ${q.cursor ? tx`and (d.created_at, d.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by d.created_at desc, d.id desc
    limit ${q.limit + 1}`
}

export async function requireDeployment(tx: Tx, id: string): Promise<DeploymentRow> {
  const [row] = await tx<DeploymentRow[]>`select ${columns(tx)} from agentry.deployments d where d.id = ${id}`
  if (!row) throw notFound('Deployment')
  return row
}

/**
 * Deploys: the database numbers the deployment, snapshots the agent's configuration unless one is restored,
 * and moves the active mark to it (sql/20261130000033_judges_deployments.sql). An agent the credential
 * cannot reach fails the foreign key or the tenant policy, and is answered as not found.
 */
export async function insertDeployment(
  tx: Tx,
  d: {
    orgId: string
    agentId: string
    environment: string
    configuration?: Record<string, unknown>
    rolledBackFrom?: string
    restoredFrom?: string
  },
): Promise<DeploymentRow> {
  const row = {
    org_id: d.orgId,
    agent_id: d.agentId,
    environment: d.environment,
    configuration: d.configuration ? tx.json(d.configuration as never) : null,
    rolled_back_from: d.rolledBackFrom ?? null,
    restored_from: d.restoredFrom ?? null,
  }
  const created = await tx<{ id: string }[]>`
    insert into agentry.deployments ${tx(row, ...(Object.keys(row) as never[]))}
    returning id`.catch((error: { code?: string }) => {
    if (error.code === '23503' || error.code === '42501') throw notFound('Agent')
    throw error
  })
  return requireDeployment(tx, created[0].id)
}

/** The agent's active deployment in the environment, if any. */
export async function activeDeployment(tx: Tx, agentId: string, environment: string): Promise<DeploymentRow | undefined> {
  const [row] = await tx<DeploymentRow[]>`
    select ${columns(tx)} from agentry.deployments d where d.agent_id = ${agentId} and d.environment = ${environment} and d.active`
  return row
}
