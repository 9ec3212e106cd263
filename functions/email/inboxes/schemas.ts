import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../../_core/schemas.ts'

const localPartShape = /^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?$/

export const LocalPart = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.string().regex(localPartShape, {
      message: 'Use 1–64 letters, digits, dots, hyphens, underscores or plus signs, starting and ending with a letter or digit.',
    }),
  )
  .openapi({ type: 'string', example: 'support' })

/** What an inbox's webhook hears: `inbound` (message.received) and `sent` (message.sent), or the event types. */
export const webhookEvents = { inbound: 'message.received', sent: 'message.sent' } as const
const WebhookEvent = z.enum(['inbound', 'sent', 'message.received', 'message.sent'])

export const WebhookSetting = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/, message: 'Must be an http or https URL.' })
      .max(2048)
      .openapi({ example: 'https://example.com/email-hook' }),
    events: z.array(WebhookEvent).min(1).max(4).optional().openapi({ description: 'Default ["inbound"].' }),
  })
  .openapi('InboxWebhook', {
    description:
      'Becomes an ordinary webhook endpoint filtered by this inbox (see /webhooks): signed deliveries, retries and the ' +
      'delivery log are the webhooks’ own. Setting it needs `webhooks:write` as well.',
  })

const Name = z.string().trim().min(1).max(200)

export const CreateInboxBody = z
  .strictObject({
    local_part: LocalPart,
    name: Name.nullable().optional(),
    agent_id: z.uuid().optional().openapi({ description: "The agent whose inbox it is. An agent key's inbox is always its own agent's." }),
    webhook: WebhookSetting.optional(),
    requires_approval: z
      .boolean()
      .optional()
      .openapi({ description: "An agent key's sends from this inbox wait as drafts for approval (organisation credentials only)." }),
  })
  .openapi('CreateInbox')

export const UpdateInboxBody = z
  .strictObject({
    local_part: LocalPart.optional().openapi({ description: 'Changes the address.' }),
    name: Name.nullable().optional(),
    status: z.enum(['active', 'disabled']).optional().openapi({ description: 'A disabled inbox refuses inbound mail.' }),
    webhook: WebhookSetting.nullable().optional().openapi({ description: 'null removes the webhook endpoint.' }),
    requires_approval: z
      .boolean()
      .optional()
      .openapi({ description: "An agent key's sends from this inbox wait as drafts for approval (organisation credentials only)." }),
  })
  .openapi('UpdateInbox')

export const ExtractionSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    description: z.string().max(2000).nullable().optional(),
    schema: z
      .record(z.string(), z.unknown())
      .refine((s) => s.type === 'object', { message: 'The schema must be a JSON Schema of "type": "object".', abort: true })
      .refine(
        (s) =>
          typeof s.properties === 'object' && s.properties !== null && !Array.isArray(s.properties) && Object.keys(s.properties).length > 0,
        {
          message: 'The schema must name the fields to extract in "properties".',
        },
      )
      .refine((s) => JSON.stringify(s).length <= 65536, { message: 'The schema is larger than 64 KiB.' })
      .openapi({ type: 'object', example: { type: 'object', properties: { order_id: { type: 'string' } } } }),
    enabled: z.boolean().optional().openapi({ description: 'Default true.' }),
  })
  .openapi('ExtractionSchema')

export const Inbox = z
  .object({
    id: z.uuid(),
    address: z.string().openapi({ example: 'support@mycompany.com' }),
    local_part: z.string(),
    domain: z.string(),
    domain_id: z.uuid().nullable().openapi({ description: 'null on the shared domain.' }),
    name: z.string().nullable(),
    agent_id: z.uuid().nullable(),
    status: z.enum(['active', 'disabled']),
    requires_approval: z.boolean(),
    webhook_endpoint_id: z.uuid().nullable().openapi({ description: 'The webhook endpoint made from `webhook`; see GET /webhooks/{id}.' }),
    extraction_schema: z
      .object({ name: z.string(), description: z.string().nullable(), schema: z.record(z.string(), z.unknown()), enabled: z.boolean() })
      .nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Inbox')

/** An inbox as answered by the write that made its webhook endpoint: with that endpoint's secret, once. */
export const InboxWithSecret = Inbox.extend({
  webhook_secret: z.string().optional().openapi({ description: 'The new webhook endpoint’s signing secret (`whsec_…`), shown once.' }),
}).openapi('InboxWithWebhookSecret')

export const InboxParams = idParams('Inbox')
export const DomainParams = idParams('Domain')
export const DomainInboxParams = DomainParams.extend(idParams('Inbox', 'inboxId').shape)

// Newest first; the cursor is the last row's creation time and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const InboxQuery = z.object({ limit: limitParam(100, 50), cursor: cursorParam(cursorShape) })
