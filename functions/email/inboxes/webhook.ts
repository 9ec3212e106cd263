// An inbox's `webhook` setting is an ordinary webhook endpoint, filtered by the inbox (`filters.inbox_id`), so
// deliveries, retries, signatures and the delivery log are the webhooks' own. The endpoint row is written
// here the way POST /webhooks writes it (same columns, plan cap and secret), under the caller's own
// webhooks scopes: RLS refuses a key without `webhooks:write`.
import type { Tx } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { generateSecret } from '../../_core/webhook-endpoints.ts'
import { webhookEvents } from './schemas.ts'

export interface WebhookSetting {
  endpoint: string
  events?: ('inbound' | 'sent' | 'message.received' | 'message.sent')[]
}

const needsWebhookScope = () =>
  new ApiError('insufficient_scope', 'An inbox webhook is a webhook endpoint: this API key also needs the scope "webhooks:write".')

/** The event types an inbox webhook hears: `inbound` → message.received, `sent` → message.sent. */
export function eventTypesOf(setting: WebhookSetting): string[] {
  const events = setting.events ?? ['inbound']
  return [...new Set(events.map((e) => (e in webhookEvents ? webhookEvents[e as keyof typeof webhookEvents] : e)))].sort()
}

/**
 * Points the inbox's endpoint at the setting, making the endpoint if the inbox has none. Answers the endpoint
 * id, and the secret when the endpoint is new.
 */
export async function attachWebhook(
  tx: Tx,
  inbox: { id: string; address: string; webhook_endpoint_id: string | null },
  setting: WebhookSetting,
  owner: { orgId: string; agentId: string | null },
): Promise<{ endpointId: string; secret?: string }> {
  const events = eventTypesOf(setting)
  if (inbox.webhook_endpoint_id) {
    const [updated] = await tx<{ id: string }[]>`
      update agentry.webhook_endpoints set url = ${setting.endpoint}, events = ${events}
      where id = ${inbox.webhook_endpoint_id} returning id`.catch(refuseWithoutScope)
    if (!updated) throw needsWebhookScope()
    return { endpointId: updated.id }
  }
  const [allowance] = await tx<{ plan_name: string; max_endpoints: number; endpoints: number }[]>`
    select * from agentry.webhook_endpoint_allowance()`
  if (allowance.endpoints >= allowance.max_endpoints) {
    throw new ApiError(
      'conflict',
      `This organisation has ${allowance.endpoints} webhook endpoints, the most its plan (${allowance.plan_name}) allows ` +
        `(max_webhook_endpoints: ${allowance.max_endpoints}); an inbox webhook is one. Delete one, or move to a plan that allows more.`,
    )
  }
  const secret = generateSecret()
  const [created] = await tx<{ id: string }[]>`
    insert into agentry.webhook_endpoints (org_id, agent_id, url, description, events, filters, enabled, secret)
    values (${owner.orgId}, ${owner.agentId}, ${setting.endpoint}, ${`Inbox ${inbox.address}`}, ${events},
      ${tx.json({ inbox_id: inbox.id })}, true, ${secret})
    returning id`.catch(refuseWithoutScope)
  return { endpointId: created.id, secret }
}

/** Deletes the inbox's endpoint; a key that may not is refused rather than leaving it behind. */
export async function detachWebhook(tx: Tx, endpointId: string): Promise<void> {
  const deleted = await tx`delete from agentry.webhook_endpoints where id = ${endpointId}`
  if (deleted.count === 0) throw needsWebhookScope()
}

function refuseWithoutScope(error: { code?: string }): never {
  if (error.code === '42501') throw needsWebhookScope()
  throw error
}
