// What a created thing (key, dataset, webhook endpoint) may belong to: any agent of the organisation for an
// organisation credential, its own agent only for an agent key. Another agent's id is answered as not found,
// like any id the credential cannot see, so an agent key learns nothing about the other agents.
import type { Principal } from './auth.ts'
import { notFound } from './errors.ts'

/** The agent a new thing belongs to: the one the request names, else the caller's own (or none). */
export function owningAgent(principal: Principal, requested: string | null | undefined): string | null {
  if (principal.agentId && requested && requested !== principal.agentId) throw notFound('Agent')
  return requested ?? principal.agentId
}

/**
 * An insert naming an agent, with an unknown agent answered as not found. The composite foreign key
 * (org_id, agent_id) proves the agent is this organisation's: it fails (23503) for any other.
 */
export function insertForAgent<T>(insert: Promise<T>): Promise<T> {
  return insert.catch((error: { code?: string }) => {
    if (error.code === '23503') throw notFound('Agent')
    throw error
  })
}
