import type { ReportRow } from './queries.ts'

/** A report as the API shows it: its fields in a fixed order. */
export function reportView(row: ReportRow) {
  return {
    id: row.id,
    domain_id: row.domain_id,
    domain: row.domain,
    policy_domain: row.policy_domain,
    org_name: row.org_name,
    email: row.email,
    report_id: row.report_id,
    date_begin: row.date_begin,
    date_end: row.date_end,
    policy_published: row.policy_published,
    errors: row.errors,
    schema_version: row.schema_version,
    record_count: row.record_count,
    message_count: row.message_count,
    received_at: row.received_at,
  }
}
