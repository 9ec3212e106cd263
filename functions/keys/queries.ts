import type { Db } from '../_core/db.ts'
import type { KeyMode } from '../_core/keys.ts'

export interface KeyRow {
  id: string
  name: string
  prefix: string
  kind: 'org' | 'agent'
  agent_id: string | null
  mode: KeyMode | null
  scopes: string[]
  status: 'active' | 'revoked'
  created_at: string
  last_used_at: string | null
  calls: number
  expires_at: string | null
  revoked_at: string | null
  rotated_from: string | null
}

// Timestamps as ISO strings and the counter as a number, exactly as the API returns them.
const keyColumns = (sql: Db) => sql`
  id, name, prefix, case when agent_id is null then 'org' else 'agent' end as kind, agent_id, mode, scopes, status,
  to_json(created_at) #>> '{}' as created_at, to_json(last_used_at) #>> '{}' as last_used_at,
  call_count::float8 as calls, to_json(expires_at) #>> '{}' as expires_at,
  to_json(revoked_at) #>> '{}' as revoked_at, rotated_from`

/**
 * Tenants rely on RLS for the organisation; the operator's service connection names it. Returns the query
 * unsent, so that withTenant can send it with its BEGIN and COMMIT in one write.
 */
export function listKeys(tx: Db, orgId?: string): Promise<KeyRow[]> {
  return tx<KeyRow[]>`
    select ${keyColumns(tx)} from agentry.api_keys
    ${orgId ? tx`where org_id = ${orgId}` : tx``}
    order by created_at, id`
}

export async function findKey(tx: Db, id: string): Promise<KeyRow | undefined> {
  const [row] = await tx<KeyRow[]>`select ${keyColumns(tx)} from agentry.api_keys where id = ${id}`
  return row
}

export interface NewKey {
  orgId: string
  agentId: string | null
  mode: KeyMode | null
  name: string
  prefix: string
  hash: Uint8Array
  scopes: string[]
  expiresAt: string | null
  rotatedFrom?: string | null
  createdByKey?: string | null
  createdByUser?: string | null
}

export async function insertKey(tx: Db, k: NewKey): Promise<KeyRow> {
  const [row] = await tx<KeyRow[]>`
    insert into agentry.api_keys
      (org_id, agent_id, mode, name, prefix, key_hash, scopes, expires_at, rotated_from, created_by_key, created_by_user)
    values (${k.orgId}, ${k.agentId}, ${k.mode}, ${k.name}, ${k.prefix}, ${k.hash}, ${k.scopes}, ${k.expiresAt},
            ${k.rotatedFrom ?? null}, ${k.createdByKey ?? null}, ${k.createdByUser ?? null})
    returning ${keyColumns(tx)}`
  return row
}

/** The requested scopes that `held` does not cover, judged by the same SQL the policies use. */
export async function scopesNotHeld(tx: Db, requested: string[], held: string[]): Promise<string[]> {
  const rows = await tx<{ scope: string }[]>`
    select r as scope from unnest(${requested}::text[]) as r where not agentry.scope_allows(${held}::text[], r)`
  return rows.map((r) => r.scope)
}

export async function lockKey(tx: Db, id: string): Promise<(KeyRow & { org_id: string; expires_at_ts: Date | null }) | undefined> {
  const [row] = await tx<(KeyRow & { org_id: string; expires_at_ts: Date | null })[]>`
    select ${keyColumns(tx)}, org_id, expires_at as expires_at_ts from agentry.api_keys where id = ${id} for update`
  return row
}

export async function revokeKey(tx: Db, id: string): Promise<KeyRow | undefined> {
  const [row] = await tx<KeyRow[]>`
    update agentry.api_keys set status = 'revoked', revoked_at = coalesce(revoked_at, now())
    where id = ${id} returning ${keyColumns(tx)}`
  return row
}

/** Ends a rotated key's life after a grace period (never extending an earlier expiry). */
export async function expireKey(tx: Db, id: string, graceSeconds: number): Promise<void> {
  await tx`
    update agentry.api_keys
    set expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(secs => ${graceSeconds}))
    where id = ${id}`
}

export async function deleteKey(tx: Db, id: string): Promise<KeyRow | undefined> {
  const [row] = await tx<KeyRow[]>`delete from agentry.api_keys where id = ${id} returning ${keyColumns(tx)}`
  return row
}
