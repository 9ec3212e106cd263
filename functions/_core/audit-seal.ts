// The audit log's hash chain is linked off the request path: a write inserts its entry unsealed, and the job
// runners' sweep (every second) seals what has committed since, each organisation's entries in one batch
// under its chain lock (agentry.seal_audit_log). GET /audit-logs/verify seals its organisation's before it walks.
import type { Db } from './db.ts'

/** How often a job runner seals the audit log. */
export const sealEveryMs = 1000

/** Seals the committed unsealed entries of `orgId`, or of every organisation no other sealer holds; returns how many. */
export async function sealAuditLog(sql: Db, orgId: string | null = null): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select agentry.seal_audit_log(${orgId}::uuid)::float8 as n`
  return row.n
}
