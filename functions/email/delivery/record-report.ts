// A bounce (DSN) or feedback report that arrived in an inbox, turned into delivery events of the outbound
// message it is about: found by its Message-ID among the inbox's own sent mail, and only for that message's
// recipients, so a forged report can at most speak about mail the inbox really sent to that address.
import type { Db } from '../../_core/db.ts'
import { raiseMessageEvent, recordBounce, recordComplaint, recordDeliveryEvent } from './record.ts'
import { type DeliveryReport, type ReportPart, readDeliveryReport } from './reports.ts'

export interface ReceivedReport {
  orgId: string
  inboxId: string
  /** The stored report message. */
  reportMessageId: string
  raw: Uint8Array
  parts: ReportPart[]
  inReplyTo: string | null
}

export async function recordDeliveryReport(tx: Db, received: ReceivedReport): Promise<DeliveryReport | null> {
  // Most mail is no report: a report has a part of its own kind, found without reading the raw bytes.
  if (!received.parts.some((p) => /^message\/((global-)?delivery-status|feedback-report)$/i.test(p.contentType))) return null
  const report = readDeliveryReport(received.raw, received.parts, received.inReplyTo)
  if (!report?.originalMessageId) return null
  const [original] = await tx<{ id: string; recipients: string[] }[]>`
    select id::text, array(select distinct lower(a) from unnest(to_addresses || cc_addresses || bcc_addresses) a) as recipients
    from agentry.email_messages
    where org_id = ${received.orgId} and inbox_id = ${received.inboxId} and direction = 'outbound'
      and message_id_header = ${report.originalMessageId}`
  if (!original) return null
  const about = { orgId: received.orgId, inboxId: received.inboxId, messageId: original.id }
  const sentTo = new Set(original.recipients)

  if (report.kind === 'delivery-status') {
    for (const r of report.recipients) {
      const recipient = [r.recipient, r.originalRecipient].find((a) => a && sentTo.has(a))
      if (!recipient) continue
      const detail = {
        via: 'dsn',
        action: r.action,
        status: r.status,
        diagnostic_code: r.diagnosticCode,
        remote_mta: r.remoteMta,
        reporting_mta: report.reportingMta,
        report_message_id: received.reportMessageId,
      }
      if (r.action === 'failed') {
        await recordBounce(tx, { ...about, recipient, permanent: r.status.startsWith('5.'), detail })
      } else if (r.action === 'delivered' && (await recordDeliveryEvent(tx, { ...about, recipient, type: 'delivered', detail }))) {
        await raiseMessageEvent(tx, about.orgId, about.inboxId, 'message.delivered', { message_id: original.id, recipients: [recipient] })
      }
    }
    return report
  }

  if (report.feedbackType === 'not-spam') return report
  // A feedback report names the complainant, or its original had one recipient who can only be them.
  const named = report.recipients.filter((a) => sentTo.has(a))
  const complainants = named.length ? named : original.recipients.length === 1 ? original.recipients : []
  for (const recipient of complainants) {
    await recordComplaint(tx, {
      ...about,
      recipient,
      detail: {
        via: 'arf',
        feedback_type: report.feedbackType,
        user_agent: report.userAgent,
        source_ip: report.sourceIp,
        report_message_id: received.reportMessageId,
      },
    })
  }
  return report
}
