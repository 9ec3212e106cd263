import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../../_core/schemas.ts'

export const eventTypes = ['sent', 'delivered', 'bounced', 'complained', 'failed', 'suppressed'] as const
const position = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/
/** The longest window metrics look back over. */
export const maxMetricDays = 90

export const DeliveryEvent = z
  .object({
    id: z.uuid(),
    inbox_id: z.uuid(),
    message_id: z.uuid(),
    recipient: z.string(),
    event_type: z.enum(eventTypes),
    detail: z.record(z.string(), z.unknown()).openapi({
      description: "What the evidence said: the relay's SMTP code and reply, a bounce's status and diagnostic, a feedback type.",
    }),
    occurred_at: z.string(),
  })
  .openapi('DeliveryEvent')

export const DeliveryEventQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: 'Only events of mail sent from this inbox.' }),
  message_id: z.uuid().optional().openapi({ description: 'Only events of this outbound message.' }),
  event_type: z.enum(eventTypes).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam(position),
})

export const MetricsQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: "One inbox's mail; every inbox the key sees when left out." }),
  period: z.enum(['7d', '30d']).optional().openapi({ description: 'The last 7 or 30 days (default 7d).' }),
  days: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxMetricDays, { message: `at most ${maxMetricDays} days` })
    .optional()
    .openapi({ description: `The last N days, 1–${maxMetricDays}; instead of period.` }),
})

export const DeliveryMetrics = z
  .object({
    inbox_id: z.uuid().nullable(),
    days: z.number().int(),
    from: z.string(),
    to: z.string(),
    sent: z.number().int(),
    delivered: z.number().int(),
    bounced: z.number().int(),
    complained: z.number().int(),
    failed: z.number().int(),
    suppressed: z.number().int(),
    delivery_rate: z.number().openapi({ description: 'delivered / sent, 0 when nothing was sent.' }),
    bounce_rate: z.number().openapi({ description: 'bounced / sent, 0 when nothing was sent.' }),
    complaint_rate: z.number().openapi({ description: 'complained / sent, 0 when nothing was sent.' }),
  })
  .openapi('DeliveryMetrics')

export const Suppression = z
  .object({
    id: z.uuid(),
    inbox_id: z.uuid(),
    address: z.string(),
    reason: z.enum(['hard_bounce', 'complaint', 'manual']),
    source_event_id: z.uuid().nullable(),
    source_message_id: z.uuid().nullable(),
    created_at: z.string(),
  })
  .openapi('Suppression')

export const SuppressionQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: "Only this inbox's list." }),
  limit: limitParam(100, 50),
  cursor: cursorParam(position),
})

export const SuppressionParams = idParams('Suppression')
