import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import type { Api } from '../../_core/server.ts'
import { requireDomain } from './queries.ts'
import { DmarcSummary, domainOf, SummaryQuery } from './schemas.ts'
import { summarise } from './summary-queries.ts'

export const getSummaryRoute = defineRoute({
  method: 'get',
  path: '/dmarc/summary',
  scope: 'domains:read',
  tags: ['Email'],
  summary: 'Summarise DMARC results',
  description:
    'What receivers reported of mail sent as a custom domain (`domain` or `domain_id`) over the last `days`: messages ' +
    'passing and failing DMARC, SPF and DKIM alignment, results by sending address, and unknown senders — addresses ' +
    'that sent as the domain with neither SPF nor DKIM aligned.',
  request: { query: SummaryQuery },
  errors: { 404: 'The organisation has no such custom domain' },
  responses: { 200: { description: 'The summary', content: { 'application/json': { schema: dataOf(DmarcSummary) } } } },
})

const rate = (part: number, whole: number) => (whole ? part / whole : null)

export const registerGetSummary = (api: Api) =>
  api.openapi(getSummaryRoute, async (c) => {
    const q = c.req.valid('query')
    const by = domainOf(q)
    const { domain, totals, since } = await withTenant(tenantOf(c), async (tx) => {
      const domain = await requireDomain(tx, by)
      const [{ since }] = await tx<{ since: string }[]>`select to_json(now() - make_interval(days => ${q.days})) #>> '{}' as since`
      return { domain, since, totals: await summarise(tx, domain.id, q.days) }
    })
    const m = totals.messages
    return c.json(
      {
        data: {
          domain: domain.name,
          domain_id: domain.id,
          days: q.days,
          since,
          reports: totals.reports,
          messages: m,
          dmarc: { pass: totals.dmarc_pass, fail: m - totals.dmarc_pass, pass_rate: rate(totals.dmarc_pass, m) },
          spf: { aligned: totals.spf_aligned, not_aligned: m - totals.spf_aligned, aligned_rate: rate(totals.spf_aligned, m) },
          dkim: { aligned: totals.dkim_aligned, not_aligned: m - totals.dkim_aligned, aligned_rate: rate(totals.dkim_aligned, m) },
          dispositions: totals.dispositions,
          sources: totals.sources,
          unknown_senders: totals.unknown_senders,
        },
      },
      200,
    )
  })
