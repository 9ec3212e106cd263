import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'
import { patternMatchesSomeType } from './event-types.ts'

export const deliveryStatuses = ['pending', 'delivered', 'failed', 'dead'] as const

export const Endpoint = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    filters: z.record(z.string(), z.string()),
    enabled: z.boolean(),
    disabled_reason: z.enum(['gone', 'failing', 'manual']).nullable().openapi({ description: 'Why the endpoint is disabled, when it is.' }),
    disabled_at: z.string().nullable(),
    verified_at: z
      .string()
      .nullable()
      .openapi({
        description:
          'When the endpoint, at its current URL, first answered a delivery with a 2xx. Until then the delivery log ' +
          "shows its answers' status codes and generic errors only, never their bodies; a new URL starts over.",
      }),
    agent_id: z.uuid().nullable(),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .openapi({ description: 'Until then, the secret before the last rotation signs too.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('WebhookEndpoint')

export const EndpointWithSecret = Endpoint.extend({
  secret: z.string().openapi({
    description: 'The signing secret (`whsec_…`). Shown on creation and rotation only.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
}).openapi('WebhookEndpointWithSecret')

export const EndpointParams = idParams('Endpoint')

const Url = z
  .url({ protocol: /^https?$/, message: 'Must be an http or https URL.' })
  .max(2048)
  .openapi({ example: 'https://example.com/hooks/agentry' })

const Events = z
  .array(
    z
      .string()
      .regex(/^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$/, { message: 'Use an event type (dataset.row.created), a prefix (dataset.row.*) or *.' })
      .refine(patternMatchesSomeType, { message: 'No event type matches this; GET /webhooks/event-types lists them.' }),
  )
  .min(1)
  .max(100)
  .openapi({ example: ['dataset.row.*'] })

const Filters = z
  .strictObject({
    dataset_id: z.uuid().optional().openapi({ description: 'Only events of this dataset.' }),
    inbox_id: z.uuid().optional().openapi({ description: 'Only events of this inbox.' }),
  })
  .openapi({ description: 'Only events whose data carries these values.' })

export const CreateEndpointBody = z
  .strictObject({
    url: Url,
    events: Events,
    description: z.string().max(500).nullable().optional(),
    filters: Filters.optional(),
    enabled: z.boolean().optional(),
    agent_id: z.uuid().optional().openapi({ description: "Hear one agent's events only. An agent key's endpoint always does." }),
  })
  .openapi('CreateWebhookEndpoint')

export const UpdateEndpointBody = z
  .strictObject({
    url: Url.optional(),
    events: Events.optional(),
    description: z.string().max(500).nullable().optional(),
    filters: Filters.optional(),
    enabled: z.boolean().optional().openapi({ description: 'Enabling a disabled endpoint clears its failure streak.' }),
  })
  .openapi('UpdateWebhookEndpoint')

export const RecoverBody = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).openapi({ description: 'Re-deliver every failed or dead delivery created since then.' }),
  })
  .openapi('RecoverWebhookEndpoint')

export const Delivery = z
  .object({
    id: z.uuid(),
    endpoint_id: z.uuid(),
    event_id: z.uuid(),
    event_type: z.string(),
    status: z.enum(deliveryStatuses),
    attempt_count: z.number().int(),
    last_error: z
      .string()
      .nullable()
      .openapi({ description: 'Why the last attempt failed, by category (see `WebhookAttempt.error`); null after a success.' }),
    last_status_code: z.number().int().nullable(),
    delivery_latency_ms: z.number().int().nullable().openapi({ description: 'From the event to its delivery.' }),
    next_retry_at: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi('WebhookDelivery')

export const Attempt = z
  .object({
    attempt: z.number().int(),
    started_at: z.string(),
    status_code: z.number().int().nullable(),
    error: z
      .string()
      .nullable()
      .openapi({
        description:
          'Why the attempt failed, as a generic text by category: `Receiver answered 503`, `Redirect (302) not followed`, ' +
          '`No answer within 15000 ms`, `Could not connect to the receiver` (no connection, no TLS, or not HTTP), ' +
          '`Blocked: the address is private` (the URL leads to a private, loopback or link-local address), or ' +
          '`The request failed`. Null when the receiver answered 2xx. The details are kept for the operator.',
        example: 'Receiver answered 503',
      }),
    latency_ms: z.number().int(),
    response_body: z
      .string()
      .nullable()
      .openapi({
        description:
          'The first 2 KB of the answer, once the endpoint is verified: shown for attempts that started after the ' +
          'endpoint first answered a delivery with a 2xx at its current URL (changing the URL starts over); null ' +
          'before, and when no answer came. Until then a URL could lead anywhere, so what answers there is not shown.',
      }),
  })
  .openapi('WebhookAttempt')

export const DeliveryDetail = Delivery.extend({
  event: z.object({ id: z.uuid(), type: z.string(), created_at: z.string(), org_id: z.uuid(), data: z.unknown() }),
  attempts: z.array(Attempt),
}).openapi('WebhookDeliveryDetail')

export const DeliveryParams = idParams('Delivery')

export const DeliveryQuery = z.object({
  inbox_id: z.uuid().optional().openapi({ description: 'Only deliveries of events about this inbox.' }),
  endpoint_id: z.uuid().optional(),
  status: z.enum(deliveryStatuses).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z_[0-9a-f-]{36}$/),
})

export const Health = z
  .object({
    endpoint_id: z.uuid(),
    url: z.string(),
    state: z.enum(['healthy', 'failing', 'disabled', 'idle']),
    enabled: z.boolean(),
    attempts_24h: z.number().int(),
    success_rate: z
      .number()
      .nullable()
      .openapi({ description: "Share of the last 24 h's attempts answered with a 2xx; null without attempts." }),
    latency_p50_ms: z.number().nullable(),
    latency_p95_ms: z.number().nullable(),
    consecutive_failures: z.number().int(),
    failing_since: z.string().nullable(),
  })
  .openapi('WebhookEndpointHealth')
