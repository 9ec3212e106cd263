// The deletion requests' SQL. Tenant statements run in the caller's transaction under RLS (scope
// data:delete); the preview's counts and the job's work run on the service connection, scoped by org_id.
import { sha256 } from '@noble/hashes/sha2.js'
import { databaseNow, now } from '../_core/clock.ts'
import type { Sql, Tx } from '../_core/db.ts'
import type { DeletionScope } from './kinds.ts'
import type { DeletionRequestRow } from './schemas.ts'

export const tokenLifetimeMs = 60 * 60 * 1000

/** A fresh confirmation token and the SHA-256 that is all the database keeps of it. */
export function newConfirmationToken(): { token: string; hash: Uint8Array } {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  const token = `dct_${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
  return { token, hash: hashToken(token) }
}

export const hashToken = (token: string) => sha256(new TextEncoder().encode(token))

const columns = (sql: Tx | Sql) => sql`
  id, scope, inbox_id, to_char(before at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as before,
  case when status = 'pending' and expires_at <= coalesce(${databaseNow()}::timestamptz, now()) then 'expired' else status end as status,
  preview, done, expires_at, error, created_at, confirmed_at, started_at, completed_at`

function toRequest(row: Record<string, unknown>): DeletionRequestRow {
  const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : null)
  return {
    id: row.id as string,
    scope: row.scope as DeletionScope,
    inbox_id: (row.inbox_id as string | null) ?? null,
    before: (row.before as string | null) ?? null,
    status: row.status as DeletionRequestRow['status'],
    preview: row.preview as Record<string, number>,
    done: row.done as Record<string, number>,
    expires_at: iso(row.expires_at)!,
    error: (row.error as string | null) ?? null,
    created_at: iso(row.created_at)!,
    confirmed_at: iso(row.confirmed_at),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
  }
}

export interface NewRequest {
  orgId: string
  scope: DeletionScope
  inboxId: string | null
  before: Date | null
  preview: Record<string, number>
  tokenHash: Uint8Array
  agentId: string | null
  keyId: string | null
  userId: string | null
}

/**
 * Records a pending request, after retiring the organisation's pending requests whose token has expired;
 * null when another request is still active (the partial unique index answers, whatever the race).
 */
export async function insertRequest(tx: Tx, r: NewRequest): Promise<DeletionRequestRow | null> {
  const at = databaseNow()
  await tx`
    update agentry.data_deletion_requests set status = 'expired'
    where org_id = ${r.orgId} and status = 'pending' and expires_at <= coalesce(${at}::timestamptz, now())`
  // Made and expiring by the product's clock, which a test may move.
  const made = now()
  const [row] = await tx`
    insert into agentry.data_deletion_requests
      (org_id, scope, inbox_id, before, preview, token_hash, created_at, expires_at, agent_id, key_id, user_id)
    values (${r.orgId}, ${r.scope}, ${r.inboxId}, ${r.before}, ${tx.json(r.preview)}, ${r.tokenHash}, ${new Date(made)},
      ${new Date(made + tokenLifetimeMs)}, ${r.agentId}, ${r.keyId}, ${r.userId})
    on conflict (org_id) where status in ('pending', 'confirmed', 'running') do nothing
    returning ${columns(tx)}`
  return row ? toRequest(row) : null
}

export async function findRequest(tx: Tx, id: string): Promise<DeletionRequestRow | null> {
  const [row] = await tx`select ${columns(tx)} from agentry.data_deletion_requests where id = ${id}`
  return row ? toRequest(row) : null
}

/** Whether the token is the request's (the hash is compared in the database, which alone may read it). */
export async function tokenMatches(tx: Tx, id: string, token: string): Promise<boolean> {
  const [row] = await tx<{ ok: boolean | null }[]>`select agentry.data_deletion_token_matches(${id}, ${hashToken(token)}) as ok`
  return row.ok === true
}

export async function markExpired(tx: Tx, id: string): Promise<void> {
  await tx`update agentry.data_deletion_requests set status = 'expired' where id = ${id} and status = 'pending'`
}

export async function markConfirmed(tx: Tx, id: string): Promise<DeletionRequestRow | null> {
  const [row] = await tx`
    update agentry.data_deletion_requests set status = 'confirmed', confirmed_at = coalesce(${databaseNow()}::timestamptz, now())
    where id = ${id} and status = 'pending' returning ${columns(tx)}`
  return row ? toRequest(row) : null
}

/** Whether the organisation has the inbox (an agent key: its agent's inbox). Asked as the service: data:delete reads no inbox. */
export async function inboxExists(sql: Sql, orgId: string, inboxId: string, agentId: string | null): Promise<boolean> {
  const [row] = await sql`
    select 1 from agentry.email_inboxes
    where id = ${inboxId} and org_id = ${orgId} ${agentId ? sql`and agent_id = ${agentId}` : sql``}`
  return row !== undefined
}
