// The events endpoints can subscribe to, each with the JSON Schema of its `data`. The envelope around every
// one is { id, type, created_at, org_id, data }; `id` stays the same across retries (it is `webhook-id`).

const uuid = { type: 'string', format: 'uuid' }
const timestamp = { type: 'string', format: 'date-time' }
const row = {
  type: 'object',
  description: 'The row as the API shows it: id, its values, created_at and updated_at.',
  properties: { id: uuid, created_at: timestamp, updated_at: timestamp },
  required: ['id', 'created_at', 'updated_at'],
  additionalProperties: true,
}
const rowEvent = (extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties: { dataset_id: uuid, row, ...extra },
  required: ['dataset_id', 'row', ...Object.keys(extra)],
})
const key = {
  type: 'object',
  description: "The key's record; never the key itself.",
  properties: {
    id: uuid,
    name: { type: 'string' },
    prefix: { type: 'string' },
    agent_id: { type: ['string', 'null'], format: 'uuid' },
    mode: { type: ['string', 'null'], enum: ['live', 'test', null] },
    scopes: { type: 'array', items: { type: 'string' } },
    status: { type: 'string', enum: ['active', 'revoked'] },
    created_at: timestamp,
    expires_at: { type: ['string', 'null'], format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
    rotated_from: { type: ['string', 'null'], format: 'uuid' },
  },
  required: ['id', 'name', 'prefix', 'scopes', 'status', 'created_at'],
}
const keyEvent = { type: 'object', properties: { key }, required: ['key'] }
const draftEvent = {
  type: 'object',
  properties: {
    draft_id: uuid,
    inbox_id: uuid,
    thread_id: { type: ['string', 'null'], format: 'uuid' },
    status: { type: 'string', enum: ['draft', 'pending_approval', 'sent'] },
    subject: { type: 'string' },
    message_id: { type: ['string', 'null'], format: 'uuid' },
  },
  required: ['draft_id', 'inbox_id', 'thread_id', 'status', 'subject', 'message_id'],
}
const runEvent = {
  type: 'object',
  properties: { run_id: uuid, agent_id: uuid, status: { type: 'string', enum: ['completed', 'failed'] } },
  required: ['run_id', 'agent_id', 'status'],
}

export const eventTypes = [
  { type: 'dataset.row.created', description: 'A row was inserted into a dataset.', schema: rowEvent() },
  {
    type: 'dataset.row.updated',
    description: 'A row of a dataset changed; `previous` is the row before.',
    schema: rowEvent({ previous: row }),
  },
  { type: 'dataset.row.deleted', description: 'A row was deleted from a dataset; `row` is the row as it was.', schema: rowEvent() },
  { type: 'api_key.created', description: 'An API key was created.', schema: keyEvent },
  { type: 'api_key.revoked', description: 'An API key was revoked.', schema: keyEvent },
  {
    type: 'api_key.rotated',
    description: "An API key was replaced by a new one; `key.rotated_from` is the old key's id.",
    schema: keyEvent,
  },
  {
    type: 'webhook.test',
    description: 'Sent by POST /webhooks/{id}/test to that endpoint alone.',
    schema: { type: 'object', properties: { endpoint_id: uuid, message: { type: 'string' } }, required: ['endpoint_id', 'message'] },
  },
  {
    type: 'webhook.endpoint.disabled',
    description:
      'An endpoint was disabled (it answered 410 Gone, or failed every delivery for five days); sent to the ' +
      "organisation's other endpoints.",
    schema: {
      type: 'object',
      properties: { endpoint_id: uuid, url: { type: 'string' }, reason: { type: 'string', enum: ['gone', 'failing'] } },
      required: ['endpoint_id', 'url', 'reason'],
    },
  },
  {
    type: 'knowledge.item.indexed',
    description: "A knowledge item's content was indexed: its chunks are searchable.",
    schema: {
      type: 'object',
      properties: {
        base_id: uuid,
        item_id: uuid,
        content_version: { type: 'integer' },
        chunks_total: { type: 'integer' },
        embedding_model: { type: ['string', 'null'], description: 'Null when no embeddings provider is configured.' },
      },
      required: ['base_id', 'item_id', 'content_version', 'chunks_total', 'embedding_model'],
    },
  },
  {
    type: 'knowledge.item.failed',
    description: 'Indexing a knowledge item failed for good (no attempts left, or the base cannot take its embeddings).',
    schema: {
      type: 'object',
      properties: { base_id: uuid, item_id: uuid, content_version: { type: 'integer' }, error: { type: 'string' } },
      required: ['base_id', 'item_id', 'content_version', 'error'],
    },
  },
  {
    type: 'message.received',
    description:
      'An email arrived in an inbox and was stored in its thread; filter an endpoint by `inbox_id` for one inbox. ' +
      '`extracted_text` is the new content without quoted history (at most 4,000 characters).',
    schema: {
      type: 'object',
      properties: {
        inbox_id: uuid,
        thread_id: uuid,
        message_id: uuid,
        message_id_header: { type: 'string', description: 'The Message-ID header, without angle brackets.' },
        from: { type: 'string', description: "The sender's address, lower-cased." },
        from_name: { type: ['string', 'null'] },
        to: { type: 'array', items: { type: 'string' } },
        cc: { type: 'array', items: { type: 'string' } },
        subject: { type: 'string' },
        extracted_text: { type: 'string' },
        is_auto_reply: {
          type: 'boolean',
          description: 'Sent by an automaton (RFC 3834 Auto-Submitted, Precedence: bulk …): do not answer.',
        },
        has_attachments: { type: 'boolean' },
        spam: {
          type: 'object',
          description:
            "The message's spam verdict as its `metadata.spam` in GET /messages shows it: its score, and each signal that counted with its weight.",
          properties: {
            score: { type: 'number' },
            verdict: { type: 'string', enum: ['spam', 'clean'] },
            reasons: {
              type: 'array',
              items: {
                type: 'object',
                properties: { signal: { type: 'string' }, weight: { type: 'number' }, detail: { type: 'string' } },
                required: ['signal', 'weight', 'detail'],
              },
            },
          },
          required: ['score', 'verdict', 'reasons'],
        },
        labels: {
          type: 'array',
          items: { type: 'string' },
          description: '`spam` past the inbox’s spam threshold; `blocked` from a sender its lists block, in flag mode.',
        },
      },
      required: [
        'inbox_id',
        'thread_id',
        'message_id',
        'message_id_header',
        'from',
        'from_name',
        'to',
        'cc',
        'subject',
        'extracted_text',
        'is_auto_reply',
        'has_attachments',
        'spam',
        'labels',
      ],
    },
  },
  {
    type: 'message.sent',
    description:
      'An email sent through POST /messages/send left: `delivered` to inboxes here, or `sent` (handed to the SMTP relay). ' +
      'Mail kept in the outbox raises none. Filter an endpoint by `inbox_id` for one inbox.',
    schema: {
      type: 'object',
      properties: {
        inbox_id: uuid,
        thread_id: uuid,
        message_id: uuid,
        message_id_header: { type: 'string', description: 'The Message-ID header, without angle brackets.' },
        status: { type: 'string', enum: ['delivered', 'sent'] },
        from: { type: 'string', description: "The sending inbox's address." },
        recipients: { type: 'array', items: { type: 'string' }, description: 'To, Cc and Bcc, lower-cased.' },
        subject: { type: 'string' },
        sent_at: timestamp,
      },
      required: ['inbox_id', 'thread_id', 'message_id', 'message_id_header', 'status', 'from', 'recipients', 'subject', 'sent_at'],
    },
  },
  {
    type: 'draft.created',
    description:
      "A draft was written (POST /inboxes/{id}/drafts), or an agent key's send from an inbox that requires approval was " +
      'kept as a draft (`status` `pending_approval`): list those with GET /drafts?status=pending_approval.',
    schema: draftEvent,
  },
  {
    type: 'draft.sent',
    description: 'A draft was sent (POST /drafts/{id}/send): `message_id` is the message it became.',
    schema: draftEvent,
  },
  {
    type: 'message.delivered',
    description:
      'A sent message reached recipients: inboxes here stored it, or a delivery notification came back. One event per ' +
      'message for local delivery, per recipient for a notification. Filter an endpoint by `inbox_id` for one inbox.',
    schema: {
      type: 'object',
      properties: { inbox_id: uuid, message_id: uuid, recipients: { type: 'array', items: { type: 'string' } } },
      required: ['inbox_id', 'message_id', 'recipients'],
    },
  },
  {
    type: 'message.bounced',
    description:
      "A recipient's mail came back: the relay refused it (5xx) or a bounce message (DSN) arrived. `permanent` ones put " +
      "the address on the inbox's suppression list. Filter an endpoint by `inbox_id` for one inbox.",
    schema: {
      type: 'object',
      properties: {
        inbox_id: uuid,
        message_id: uuid,
        recipient: { type: 'string' },
        permanent: { type: 'boolean' },
        detail: { type: 'object', description: 'SMTP code and reply, or the DSN status and diagnostic.' },
      },
      required: ['inbox_id', 'message_id', 'recipient', 'permanent', 'detail'],
    },
  },
  {
    type: 'message.complained',
    description:
      "A recipient reported a sent message as unwanted (a feedback report arrived); the address goes on the inbox's " +
      'suppression list. Filter an endpoint by `inbox_id` for one inbox.',
    schema: {
      type: 'object',
      properties: {
        inbox_id: uuid,
        message_id: uuid,
        recipient: { type: 'string' },
        detail: { type: 'object', description: 'The feedback type and who reported it.' },
      },
      required: ['inbox_id', 'message_id', 'recipient', 'detail'],
    },
  },
  {
    type: 'run.completed',
    description: 'An agent run completed; GET /runs/{run_id} has its output, steps and usage.',
    schema: runEvent,
  },
  {
    type: 'run.failed',
    description: 'An agent run failed; GET /runs/{run_id} has its `last_error` ({ code, message }).',
    schema: runEvent,
  },
  {
    type: 'budget.threshold',
    description:
      'What a budget has spent in its current period reached 50, 80 or 100 % of its limit; each is sent once per ' +
      "budget and period. `agent_id` is null for the organisation's budget.",
    schema: {
      type: 'object',
      properties: {
        budget_id: uuid,
        agent_id: { type: ['string', 'null'], format: 'uuid' },
        period: { type: 'string', enum: ['day', 'month'] },
        period_start: { type: 'string', format: 'date', description: 'The first day (UTC) of the period.' },
        percent: { type: 'integer', enum: [50, 80, 100] },
        spent_usd: { type: 'number' },
        limit_usd: { type: 'number' },
      },
      required: ['budget_id', 'agent_id', 'period', 'period_start', 'percent', 'spent_usd', 'limit_usd'],
    },
  },
] as const

export const eventTypeNames: readonly string[] = eventTypes.map((e) => e.type)

/** Whether a subscription pattern (a type, `prefix.*` or `*`) takes at least one event type there is. */
export function patternMatchesSomeType(pattern: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('.*')) return eventTypeNames.some((t) => t.startsWith(pattern.slice(0, -1)))
  return eventTypeNames.includes(pattern)
}
