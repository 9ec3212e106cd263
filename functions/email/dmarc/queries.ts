import type { Tx } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import type { ParsedReport } from './parse-report.ts'

export interface ReportRow {
  id: string
  domain_id: string
  domain: string
  policy_domain: string
  org_name: string
  email: string
  report_id: string
  date_begin: string
  date_end: string
  policy_published: Record<string, string>
  errors: string[]
  schema_version: string | null
  record_count: number
  message_count: number
  received_at: string
}

const reportColumns = (tx: Tx) => tx`
  r.id, r.domain_id, d.name as domain, r.policy_domain, r.org_name, r.email, r.report_id,
  to_json(r.date_begin) #>> '{}' as date_begin, to_json(r.date_end) #>> '{}' as date_end, r.policy_published, r.errors,
  r.schema_version, r.record_count, r.message_count::float8 as message_count, to_json(r.received_at) #>> '{}' as received_at`

/** The organisation's custom domain, by id or by name; 404 when it has none such. */
export async function requireDomain(tx: Tx, by: { id?: string; name?: string }): Promise<{ id: string; name: string }> {
  const [row] = by.id
    ? await tx<{ id: string; name: string }[]>`select id, name from agentry.email_domains where id = ${by.id}`
    : await tx<{ id: string; name: string }[]>`select id, name from agentry.email_domains where name = ${by.name ?? ''}`
  if (!row) throw notFound('Domain')
  return row
}

/** Stores the report and its records; null when this domain already has the reporter's report of that id. */
export async function insertReport(tx: Tx, orgId: string, domainId: string, report: ParsedReport): Promise<string | null> {
  const [inserted] = await tx<{ id: string }[]>`
    insert into agentry.dmarc_reports (org_id, domain_id, policy_domain, org_name, email, report_id, date_begin, date_end,
      policy_published, errors, schema_version, record_count, message_count)
    values (${orgId}, ${domainId}, ${report.policyDomain}, ${report.orgName}, ${report.email}, ${report.reportId},
      ${report.dateBegin}, ${report.dateEnd}, ${tx.json(report.policyPublished)}, ${report.errors}, ${report.schemaVersion},
      ${report.records.length}, ${report.records.reduce((sum, r) => sum + r.count, 0)})
    on conflict (domain_id, org_name, report_id) do nothing
    returning id`
  if (!inserted) return null
  if (report.records.length) {
    const rows = report.records.map((r) => ({
      source_ip: r.sourceIp,
      count: r.count,
      disposition: r.disposition,
      dkim: r.dkim,
      spf: r.spf,
      reasons: r.reasons,
      header_from: r.headerFrom,
      envelope_from: r.envelopeFrom,
      envelope_to: r.envelopeTo,
      auth_results: r.authResults,
    }))
    // One parameter whatever the number of records.
    await tx`
      insert into agentry.dmarc_records (org_id, report_id, source_ip, count, disposition, dkim, spf, reasons, header_from,
        envelope_from, envelope_to, auth_results)
      select ${orgId}, ${inserted.id}, x.source_ip::inet, x.count, x.disposition, x.dkim, x.spf, x.reasons, x.header_from,
        x.envelope_from, x.envelope_to, x.auth_results
      from jsonb_to_recordset(${tx.json(rows as never)}) as x(source_ip text, count bigint, disposition text, dkim text,
        spf text, reasons jsonb, header_from text, envelope_from text, envelope_to text, auth_results jsonb)`
  }
  return inserted.id
}

export async function reportById(tx: Tx, id: string): Promise<ReportRow> {
  const [row] = await tx<ReportRow[]>`
    select ${reportColumns(tx)} from agentry.dmarc_reports r join agentry.email_domains d on d.id = r.domain_id where r.id = ${id}`
  return row
}

export async function existingReport(tx: Tx, domainId: string, report: ParsedReport): Promise<ReportRow> {
  const [row] = await tx<ReportRow[]>`
    select ${reportColumns(tx)} from agentry.dmarc_reports r join agentry.email_domains d on d.id = r.domain_id
    where r.domain_id = ${domainId} and r.org_name = ${report.orgName} and r.report_id = ${report.reportId}`
  return row
}

// Newest report period first; the cursor is the last row's period end and id.
const position = (tx: Tx) => tx`to_char(r.date_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || r.id as position`

export function listReports(tx: Tx, domainId: string, q: { limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(ReportRow & { position: string })[]>`
    select ${reportColumns(tx)}, ${position(tx)}
    from agentry.dmarc_reports r join agentry.email_domains d on d.id = r.domain_id
    where r.domain_id = ${domainId} ${q.cursor ? tx`and (r.date_end, r.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by r.date_end desc, r.id desc
    limit ${q.limit + 1}`
}
