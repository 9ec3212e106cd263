import type { Tx } from '../_core/db.ts'

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

/** Newest first; RLS limits the rows to the caller's organisation. Fetches one extra row to know if more remain. */
export async function listAuditEntries(tx: Tx, q: { limit: number; before?: string; keyId?: string }): Promise<AuditRow[]> {
  return tx<AuditRow[]>`
    select id::text, method, path, status, key_id, user_id, agent_id, request_id, to_json(created_at) #>> '{}' as created_at
    from agentry.audit_log
    where true
      ${q.before ? tx`and id < ${q.before}` : tx``}
      ${q.keyId ? tx`and key_id = ${q.keyId}` : tx``}
    order by id desc
    limit ${q.limit + 1}`
}
