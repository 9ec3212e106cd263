import type { InboxAnswer } from './operations.ts'

/** An inbox as the API shows it: its columns in a fixed order, and the webhook secret only when just made. */
export function inboxView(row: InboxAnswer) {
  return {
    id: row.id,
    address: row.address,
    local_part: row.local_part,
    domain: row.domain,
    domain_id: row.domain_id,
    name: row.name,
    agent_id: row.agent_id,
    status: row.status,
    requires_approval: row.requires_approval,
    webhook_endpoint_id: row.webhook_endpoint_id,
    extraction_schema: row.extraction_schema,
    created_at: row.created_at,
    updated_at: row.updated_at,
    ...(row.webhook_secret ? { webhook_secret: row.webhook_secret } : {}),
  }
}
