import { z } from '@hono/zod-openapi'
import { ApiError } from '../../_core/errors.ts'
import { cursorParam, limitParam } from '../../_core/schemas.ts'
import { DomainName } from '../domains/schemas.ts'

export const DmarcReport = z
  .object({
    id: z.uuid(),
    domain_id: z.uuid(),
    domain: z.string().openapi({ description: 'The custom domain the report was submitted for.' }),
    policy_domain: z.string().openapi({ description: 'policy_published/domain: the domain itself or one of its subdomains.' }),
    org_name: z.string().openapi({ description: 'The reporting receiver, e.g. google.com.' }),
    email: z.string(),
    report_id: z.string().openapi({ description: "The receiver's id for the report; with org_name, what makes it unique." }),
    date_begin: z.string(),
    date_end: z.string(),
    policy_published: z.record(z.string(), z.string()).openapi({ description: 'adkim, aspf, p, sp, pct … as the receiver found them.' }),
    errors: z.array(z.string()).openapi({ description: 'What the receiver says went wrong while producing the report.' }),
    schema_version: z.string().nullable(),
    record_count: z.number().int(),
    message_count: z.number().int(),
    received_at: z.string(),
  })
  .openapi('DmarcReport')

export const SubmitReportQuery = z.object({
  domain_id: z.uuid({ message: 'domain_id must be a UUID.' }).openapi({ description: 'The custom domain the report is about.' }),
})

export const SubmittedReport = z.object({
  data: DmarcReport,
  duplicate: z.boolean().openapi({ description: 'true when this report had been submitted before: the stored one is answered.' }),
})

/** `domain` (its name) or `domain_id`: the query names the domain one way or the other. */
const DomainChoice = {
  domain: DomainName.optional().openapi({ description: 'The custom domain by name; or give `domain_id`.' }),
  domain_id: z.uuid({ message: 'domain_id must be a UUID.' }).optional(),
}

export function domainOf(q: { domain?: string; domain_id?: string }): { id?: string; name?: string } {
  if (!q.domain && !q.domain_id) {
    throw new ApiError('validation_failed', 'Invalid request: domain: name the domain with `domain` or `domain_id`.', {
      fields: [{ field: 'domain', message: 'name the domain with `domain` or `domain_id`' }],
    })
  }
  return q.domain_id ? { id: q.domain_id } : { name: q.domain }
}

// Newest report period first; the cursor is the last row's period end and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const ListReportsQuery = z.object({ ...DomainChoice, limit: limitParam(100, 20), cursor: cursorParam(cursorShape) })

export const maxSummaryDays = 365

export const SummaryQuery = z.object({
  ...DomainChoice,
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxSummaryDays)
    .default(30)
    .openapi({ description: `Reports whose period ended in the last N days: 1–${maxSummaryDays}, default 30.` }),
})

const Aligned = z.object({
  aligned: z.number().int(),
  not_aligned: z.number().int(),
  aligned_rate: z.number().nullable().openapi({ description: 'aligned / messages; null without messages.' }),
})

export const DmarcSummary = z
  .object({
    domain: z.string(),
    domain_id: z.uuid(),
    days: z.number().int(),
    since: z.string().openapi({ description: 'The start of the window: reports whose period ended after it count.' }),
    reports: z.number().int(),
    messages: z.number().int(),
    dmarc: z.object({
      pass: z.number().int().openapi({ description: 'Messages where DKIM or SPF passed aligned with header_from.' }),
      fail: z.number().int(),
      pass_rate: z.number().nullable().openapi({ description: 'pass / messages; null without messages.' }),
    }),
    spf: Aligned,
    dkim: Aligned,
    dispositions: z
      .record(z.string(), z.number().int())
      .openapi({ description: 'Messages by what receivers did: none, quarantine, reject.' }),
    sources: z
      .array(
        z.object({
          source_ip: z.string(),
          messages: z.number().int(),
          dmarc_pass: z.number().int(),
          dmarc_fail: z.number().int(),
          spf_aligned: z.number().int(),
          dkim_aligned: z.number().int(),
        }),
      )
      .openapi({ description: 'Every sending address, most messages first (at most 500).' }),
    unknown_senders: z
      .array(
        z.object({
          source_ip: z.string(),
          messages: z.number().int(),
          header_from: z.array(z.string()),
          dispositions: z.record(z.string(), z.number().int()),
        }),
      )
      .openapi({
        description:
          'Addresses that sent as the domain with neither DKIM nor SPF aligned: a service not yet authorised, or someone spoofing the domain.',
      }),
  })
  .openapi('DmarcSummary')
