import { generateSecret } from '../../functions/webhooks/signing.ts'
import { serviceSql, type Tenant } from './tenants.ts'

export interface EndpointOptions {
  url?: string
  events?: string[]
  filters?: Record<string, string>
  agent?: 'agent' | 'otherAgent'
  enabled?: boolean
}

/** A webhook endpoint of the tenant's, made straight in the database. */
export async function createEndpoint(t: Tenant, o: EndpointOptions = {}): Promise<{ id: string; secret: string }> {
  const sql = serviceSql()
  const agentId = o.agent === 'agent' ? t.agent.id : o.agent === 'otherAgent' ? t.otherAgent.id : null
  const secret = generateSecret()
  const [row] = await sql<{ id: string }[]>`
    insert into agentry.webhook_endpoints (org_id, agent_id, url, events, filters, enabled, secret)
    values (${t.org.id}, ${agentId}, ${o.url ?? 'http://127.0.0.1:9/hooks'}, ${o.events ?? ['*']}, ${sql.json(o.filters ?? {})},
      ${o.enabled ?? true}, ${secret})
    returning id`
  return { id: row.id, secret }
}

/** A delivery of the tenant's: a test event to a fresh endpoint. */
export async function createDelivery(t: Tenant, o: EndpointOptions = {}): Promise<{ id: string; endpointId: string }> {
  const sql = serviceSql()
  const endpoint = await createEndpoint(t, o)
  const agentId = o.agent === 'agent' ? t.agent.id : o.agent === 'otherAgent' ? t.otherAgent.id : null
  const [event] = await sql<{ id: string }[]>`
    insert into agentry.events (org_id, agent_id, type, data, endpoint_id)
    values (${t.org.id}, ${agentId}, 'webhook.test', '{"message":"test"}', ${endpoint.id}) returning id`
  const [delivery] = await sql<{ id: string }[]>`select id from agentry.webhook_deliveries where event_id = ${event.id}`
  return { id: delivery.id, endpointId: endpoint.id }
}
