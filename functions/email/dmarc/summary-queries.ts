import type { Tx } from '../../_core/db.ts'

export interface SourceTotals {
  source_ip: string
  messages: number
  dmarc_pass: number
  dmarc_fail: number
  spf_aligned: number
  dkim_aligned: number
}

export interface UnknownSender {
  source_ip: string
  messages: number
  header_from: string[]
  dispositions: Record<string, number>
}

export interface SummaryTotals {
  reports: number
  messages: number
  dmarc_pass: number
  spf_aligned: number
  dkim_aligned: number
  dispositions: Record<string, number>
  sources: SourceTotals[]
  unknown_senders: UnknownSender[]
}

/** At most this many sources are listed, those sending the most first. */
export const maxSources = 500

/**
 * What the domain's reports say of the last `days` (by the end of each report's period). A message passes
 * DMARC when DKIM or SPF passed aligned, as the receiver evaluated it (policy_evaluated): the raw
 * auth_results may pass for a domain other than header_from's, which DMARC does not count.
 */
export async function summarise(tx: Tx, domainId: string, days: number): Promise<SummaryTotals> {
  const [row] = await tx<SummaryTotals[]>`
    with report as (
      select r.id from agentry.dmarc_reports r
      where r.domain_id = ${domainId} and r.date_end >= now() - make_interval(days => ${days})
    ), rec as (
      select host(x.source_ip) as source_ip, x.count, x.dkim = 'pass' as dkim_aligned, x.spf = 'pass' as spf_aligned,
        x.disposition, x.header_from
      from agentry.dmarc_records x join report on report.id = x.report_id
    ), by_source as (
      select source_ip, sum(count)::float8 as messages,
        coalesce(sum(count) filter (where dkim_aligned or spf_aligned), 0)::float8 as dmarc_pass,
        coalesce(sum(count) filter (where not (dkim_aligned or spf_aligned)), 0)::float8 as dmarc_fail,
        coalesce(sum(count) filter (where spf_aligned), 0)::float8 as spf_aligned,
        coalesce(sum(count) filter (where dkim_aligned), 0)::float8 as dkim_aligned
      from rec group by source_ip
    ), unknown as (
      select source_ip, sum(count)::float8 as messages, array_agg(distinct header_from order by header_from) as header_from,
        (select jsonb_object_agg(d.disposition, d.messages) from (
          select u.disposition, sum(u.count)::float8 as messages from rec u
          where u.source_ip = f.source_ip and not (u.dkim_aligned or u.spf_aligned) group by u.disposition) d) as dispositions
      from rec f where not (dkim_aligned or spf_aligned) group by source_ip
    )
    select
      (select count(*)::int from report) as reports,
      coalesce((select sum(count) from rec), 0)::float8 as messages,
      coalesce((select sum(count) filter (where dkim_aligned or spf_aligned) from rec), 0)::float8 as dmarc_pass,
      coalesce((select sum(count) filter (where spf_aligned) from rec), 0)::float8 as spf_aligned,
      coalesce((select sum(count) filter (where dkim_aligned) from rec), 0)::float8 as dkim_aligned,
      coalesce((select jsonb_object_agg(disposition, messages) from (
        select disposition, sum(count)::float8 as messages from rec group by disposition) d), '{}') as dispositions,
      coalesce((select jsonb_agg(to_jsonb(s) order by s.messages desc, s.source_ip) from (
        select * from by_source order by messages desc, source_ip limit ${maxSources}) s), '[]') as sources,
      coalesce((select jsonb_agg(to_jsonb(u) order by u.messages desc, u.source_ip) from (
        select * from unknown order by messages desc, source_ip limit ${maxSources}) u), '[]') as unknown_senders`
  return row
}
