// The Connic-shaped routes (/knowledge/text, /knowledge/entries) address an environment's default base by
// environment id, both at our paths and at Connic's (/projects/{org_id}/knowledge/…), where the project is
// the caller's organisation.
import type { Principal } from '../_core/auth.ts'
import type { Tx } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { type BaseRow, findBase } from './base-queries.ts'

/** Connic's project id is our organisation id: another organisation's is answered as not found. */
export function refuseOtherProject(principal: Principal, orgId: string | undefined): void {
  if (orgId !== undefined && orgId !== principal.orgId) throw notFound('Project')
}

/** The environment's default base, made on first use when `create` is set; undefined when there is none yet. */
export async function environmentBase(
  tx: Tx,
  principal: Principal,
  environmentId: string,
  options: { create: boolean },
): Promise<BaseRow | undefined> {
  const [{ name }] = await tx<{ name: string | null }[]>`select agentry.claimed_environment_name(${environmentId}) as name`
  if (name === null) throw new ApiError('not_found', `Environment ${environmentId} not found: GET /org lists your environments.`)
  const existing = await findDefault(tx, environmentId)
  if (existing || !options.create) return existing
  if (principal.agentId) {
    // An agent key reaches the bases linked to its agent; it cannot make the base or link it to itself.
    throw new ApiError(
      'insufficient_scope',
      `The ${name} environment's knowledge base is not linked to this agent: an organisation token creates it ` +
        '(POST /knowledge/text) and links it (PATCH /bases/{id} with agent_ids).',
    )
  }
  // Two first uploads at once: one inserts, the other finds it.
  await tx`
    insert into agentry.knowledge_bases (org_id, environment_id, is_default, name, description)
    values (${principal.orgId}, ${environmentId}, true, ${`${name} knowledge`}, ${`The default knowledge base of the ${name} environment.`})
    on conflict (org_id, environment_id) where is_default do nothing`
  return findDefault(tx, environmentId)
}

async function findDefault(tx: Tx, environmentId: string): Promise<BaseRow | undefined> {
  const [row] = await tx<{ id: string }[]>`
    select id from agentry.knowledge_bases where environment_id = ${environmentId} and is_default`
  return row ? findBase(tx, row.id) : undefined
}
