import type { Tx } from '../_core/db.ts'
import type { ActorKind } from './schemas.ts'

export interface AuditRow {
  id: string
  method: string
  path: string
  status: number
  key_id: string | null
  user_id: string | null
  agent_id: string | null
  request_id: string
  created_at: string
}

export interface AuditFilter {
  limit: number
  before?: string
  keyId?: string
  actor?: { kind: ActorKind; id: string }
  method?: string
  resource?: string
  from?: string
  to?: string
}

const actorColumn = { key: 'key_id', user: 'user_id', agent: 'agent_id' } as const

/** A LIKE pattern matching the text literally. */
const literally = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * Newest first; RLS limits the rows to the caller's organisation. Fetches one extra row to know if more remain.
 * Corrections are not entries of their own: an entry shows the status of its latest correction.
 */
export async function listAuditEntries(tx: Tx, q: AuditFilter): Promise<AuditRow[]> {
  const resource = q.resource?.replace(/\/+$/, '')
  return tx<AuditRow[]>`
    select a.id::text, a.method, a.path,
      coalesce((select c.status from agentry.audit_log c where c.corrects = a.id order by c.id desc limit 1), a.status) as status,
      a.key_id, a.user_id, a.agent_id, a.request_id, to_json(a.created_at) #>> '{}' as created_at
    from agentry.audit_log a
    where a.corrects is null
      ${q.before ? tx`and a.id < ${q.before}` : tx``}
      ${q.keyId ? tx`and a.key_id = ${q.keyId}` : tx``}
      ${q.actor ? tx`and a.${tx(actorColumn[q.actor.kind])} = ${q.actor.id}` : tx``}
      ${q.method ? tx`and a.method = ${q.method}` : tx``}
      ${resource !== undefined ? tx`and (a.path = ${resource || '/'} or a.path like ${`${literally(resource)}/%`})` : tx``}
      ${q.from ? tx`and a.created_at >= ${q.from}` : tx``}
      ${q.to ? tx`and a.created_at < ${q.to}` : tx``}
    order by a.id desc
    limit ${q.limit + 1}`
}

export interface ChainStretch {
  checked: number
  last_seq: string
  last_hash: string | null
  head_seq: string
  broken_id: string | null
  broken_created_at: string | null
}

/** Checks the next `batch` links of the caller's organisation's chain (agentry.verify_audit_chain). */
export async function verifyChainStretch(
  tx: Tx,
  from: { afterSeq: string; prevHash: string | null; untilSeq: string | null },
  batch: number,
): Promise<ChainStretch> {
  const [row] = await tx<ChainStretch[]>`
    select checked, last_seq::text, encode(last_hash, 'hex') as last_hash, head_seq::text, broken_id::text,
      to_json(broken_created_at) #>> '{}' as broken_created_at
    from agentry.verify_audit_chain(${from.afterSeq}::bigint, decode(${from.prevHash}::text, 'hex'), ${from.untilSeq}::bigint, ${batch})`
  return row
}

/** How many of the caller's organisation's entries are not sealed into the chain yet. */
export async function unsealedCount(tx: Tx): Promise<number> {
  const [row] = await tx<{ n: number }[]>`select agentry.audit_unsealed_count()::float8 as n`
  return row.n
}
