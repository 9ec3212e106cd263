// The audit log keeps entries for its retention (agentry.audit_log_retention(), 365 days) and no longer:
// the job runners' hourly sweep deletes what has passed it, through the one function allowed to.
import type { Sql } from './db.ts'

/** Deletes the audit entries older than the retention, every organisation's; returns how many went. */
export async function pruneAuditLog(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select agentry.prune_audit_log(now() - agentry.audit_log_retention())::float8 as n`
  return row.n
}
