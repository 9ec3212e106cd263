import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { countDeliveryEvents } from './queries.ts'
import { DeliveryMetrics, MetricsQuery, maxMetricDays } from './schemas.ts'

export const getDeliveryMetricsRoute = defineRoute({
  method: 'get',
  path: '/delivery/metrics',
  scope: 'messages:read',
  tags: ['Delivery'],
  summary: 'Delivery metrics',
  description:
    'Counts of delivery events over the last `period` (`7d`, the default, or `30d`) or `days` (1–' +
    `${maxMetricDays}), for one inbox or every inbox the key sees, with delivery, bounce and complaint rates: each count ` +
    'divided by `sent` (the recipients mail was handed over for), 0 when nothing was sent.',
  request: { query: MetricsQuery },
  responses: { 200: { description: 'The counts and rates', content: { 'application/json': { schema: dataOf(DeliveryMetrics) } } } },
})

/** A count over `sent`, to four places; nothing sent is a rate of 0. */
const rate = (count: number, sent: number) => (sent === 0 ? 0 : Math.round((count / sent) * 10_000) / 10_000)

export const registerGetDeliveryMetrics = (api: Api) =>
  api.openapi(getDeliveryMetricsRoute, async (c) => {
    const q = c.req.valid('query')
    if (q.period && q.days !== undefined) throw new ApiError('validation_failed', 'Give period or days, not both.')
    const days = q.days ?? (q.period === '30d' ? 30 : 7)
    const window = await withTenant(tenantOf(c), (tx) => countDeliveryEvents(tx, { inboxId: q.inbox_id, days }))
    const n = (type: keyof typeof window.counts) => window.counts[type] ?? 0
    const sent = n('sent')
    return c.json(
      {
        data: {
          inbox_id: q.inbox_id ?? null,
          days,
          from: window.from,
          to: window.to,
          sent,
          delivered: n('delivered'),
          bounced: n('bounced'),
          complained: n('complained'),
          failed: n('failed'),
          suppressed: n('suppressed'),
          delivery_rate: rate(n('delivered'), sent),
          bounce_rate: rate(n('bounced'), sent),
          complaint_rate: rate(n('complained'), sent),
        },
      },
      200,
    )
  })
