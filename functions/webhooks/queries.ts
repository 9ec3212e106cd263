import type { Tx } from '../_core/db.ts'

export interface EndpointRow {
  id: string
  url: string
  description: string | null
  events: string[]
  filters: Record<string, string>
  enabled: boolean
  disabled_reason: 'gone' | 'failing' | 'manual' | null
  disabled_at: string | null
  verified_at: string | null
  agent_id: string | null
  previous_secret_expires_at: string | null
  created_at: string
  updated_at: string
}

const iso = (tx: Tx, column: string) => tx`to_json(${tx(column)}) #>> '{}' as ${tx(column)}`

const endpointColumns = (tx: Tx) => tx`
  id, url, description, events, filters, enabled, disabled_reason, ${iso(tx, 'disabled_at')}, ${iso(tx, 'verified_at')}, agent_id,
  case when previous_secret_expires_at > now() then to_json(previous_secret_expires_at) #>> '{}' end as previous_secret_expires_at,
  ${iso(tx, 'created_at')}, ${iso(tx, 'updated_at')}`

/** RLS decides which endpoints the caller sees: the organisation's, or an agent key's own agent's. */
export async function listEndpoints(tx: Tx): Promise<EndpointRow[]> {
  return tx<EndpointRow[]>`select ${endpointColumns(tx)} from agentry.webhook_endpoints order by created_at, id`
}

export async function findEndpoint(tx: Tx, id: string): Promise<EndpointRow | undefined> {
  const [row] = await tx<EndpointRow[]>`select ${endpointColumns(tx)} from agentry.webhook_endpoints where id = ${id}`
  return row
}

export interface NewEndpoint {
  orgId: string
  agentId: string | null
  url: string
  description: string | null
  events: string[]
  filters: Record<string, string>
  enabled: boolean
  secret: string
}

export interface EndpointAllowance {
  plan_name: string
  max_endpoints: number
  endpoints: number
}

/**
 * The organisation's plan, the endpoints it allows and how many there are. Holds a lock until the
 * transaction ends, so that endpoints created at the same time are counted one after the other.
 */
export async function endpointAllowance(tx: Tx): Promise<EndpointAllowance> {
  const [row] = await tx<EndpointAllowance[]>`select * from agentry.webhook_endpoint_allowance()`
  return row
}

export async function insertEndpoint(tx: Tx, e: NewEndpoint): Promise<EndpointRow & { secret: string }> {
  const [row] = await tx<(EndpointRow & { secret: string })[]>`
    insert into agentry.webhook_endpoints (org_id, agent_id, url, description, events, filters, enabled, secret)
    values (${e.orgId}, ${e.agentId}, ${e.url}, ${e.description}, ${e.events}, ${tx.json(e.filters)}, ${e.enabled}, ${e.secret})
    returning ${endpointColumns(tx)}, secret`
  return row
}

export interface EndpointChanges {
  url?: string
  description?: string | null
  events?: string[]
  filters?: Record<string, string>
  enabled?: boolean
}

/** Enabling clears the reason and the failure streak; disabling by hand says so. */
export async function updateEndpoint(tx: Tx, id: string, c: EndpointChanges): Promise<EndpointRow | undefined> {
  const [row] = await tx<EndpointRow[]>`
    update agentry.webhook_endpoints set
      url = coalesce(${c.url ?? null}, url),
      description = case when ${c.description !== undefined} then ${c.description ?? null} else description end,
      events = coalesce(${c.events ?? null}::text[], events),
      filters = coalesce(${c.filters ? tx.json(c.filters) : null}::jsonb, filters),
      enabled = coalesce(${c.enabled ?? null}::boolean, enabled),
      disabled_reason = case ${c.enabled ?? null}::boolean when true then null when false then 'manual' else disabled_reason end,
      disabled_at = case ${c.enabled ?? null}::boolean when true then null when false then
        coalesce(disabled_at, now()) else disabled_at end,
      failing_since = case when ${c.enabled === true} then null else failing_since end
    where id = ${id}
    returning ${endpointColumns(tx)}`
  return row
}

export async function deleteEndpoint(tx: Tx, id: string): Promise<EndpointRow | undefined> {
  const [row] = await tx<EndpointRow[]>`delete from agentry.webhook_endpoints where id = ${id} returning ${endpointColumns(tx)}`
  return row
}

/** A new secret; the current one keeps signing beside it for a day. */
export async function rotateSecret(tx: Tx, id: string, secret: string): Promise<(EndpointRow & { secret: string }) | undefined> {
  const [row] = await tx<(EndpointRow & { secret: string })[]>`
    update agentry.webhook_endpoints
    set previous_secret = secret, previous_secret_expires_at = now() + interval '24 hours', secret = ${secret}
    where id = ${id}
    returning ${endpointColumns(tx)}, secret`
  return row
}

/** Queues a `webhook.test` event for one endpoint; the fan-out trigger makes its delivery. */
export async function queueTestEvent(
  tx: Tx,
  endpoint: { id: string; agent_id: string | null },
  orgId: string,
): Promise<{ event_id: string; delivery_id: string }> {
  const [event] = await tx<{ id: string }[]>`
    insert into agentry.events (org_id, agent_id, type, data, endpoint_id)
    values (${orgId}, ${endpoint.agent_id}, 'webhook.test',
            ${tx.json({ endpoint_id: endpoint.id, message: 'A test event from Agentry: this endpoint receives signed deliveries.' })},
              ${endpoint.id})
    returning id`
  const [delivery] = await tx<{ id: string }[]>`select id from agentry.webhook_deliveries where event_id = ${event.id}`
  return { event_id: event.id, delivery_id: delivery.id }
}

/** Puts the endpoint's failed and dead deliveries since `since` back in the queue, due now. */
export async function recoverDeliveries(tx: Tx, endpointId: string, since: string): Promise<number> {
  const rows = await tx`
    update agentry.webhook_deliveries set status = 'pending', next_attempt_at = now()
    where endpoint_id = ${endpointId} and status in ('failed', 'dead') and created_at >= ${since}::timestamptz
    returning id`
  return rows.length
}

export interface DeliveryRow {
  id: string
  endpoint_id: string
  event_id: string
  event_type: string
  status: 'pending' | 'delivered' | 'failed' | 'dead'
  attempt_count: number
  last_error: string | null
  last_status_code: number | null
  delivery_latency_ms: number | null
  next_retry_at: string | null
  created_at: string
  delivered_at: string | null
}

/** A delivery as its tenant sees it: the last error by category only (see agentry.webhook_error_shown). */
const deliveryColumns = (tx: Tx) => tx`
  d.id, d.endpoint_id, d.event_id, e.type as event_type, d.status, d.attempt_count,
  agentry.webhook_error_shown(d.last_status_code,
    (select a.error_kind from agentry.webhook_attempts a where a.delivery_id = d.id order by a.attempt desc, a.id desc limit 1),
    d.last_error) as last_error,
  d.last_status_code, d.delivery_latency_ms,
  case when d.status in ('pending', 'failed') then to_json(d.next_attempt_at) #>> '{}' end as next_retry_at,
  to_json(d.created_at at time zone 'UTC') #>> '{}' || 'Z' as created_at, to_json(d.delivered_at) #>> '{}' as delivered_at`

/** Newest first, one extra row to tell whether more remain; the cursor is the last row's time and id. */
export async function listDeliveries(
  tx: Tx,
  q: { limit: number; cursor?: string; status?: string; endpointId?: string; inboxId?: string },
): Promise<DeliveryRow[]> {
  const [at, id] = q.cursor ? q.cursor.split('_') : []
  return tx<DeliveryRow[]>`
    select ${deliveryColumns(tx)} from agentry.webhook_deliveries d join agentry.events e on e.id = d.event_id
    where true
      ${q.status ? tx`and d.status = ${q.status}` : tx``}
      ${q.endpointId ? tx`and d.endpoint_id = ${q.endpointId}` : tx``}
      ${q.inboxId ? tx`and e.data ->> 'inbox_id' = ${q.inboxId}` : tx``}
      ${at ? tx`and (d.created_at, d.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by d.created_at desc, d.id desc
    limit ${q.limit + 1}`
}

export interface DeliveryDetailRow extends DeliveryRow {
  event: { id: string; type: string; created_at: string; org_id: string; data: unknown }
  attempts: {
    attempt: number
    started_at: string
    status_code: number | null
    error: string | null
    latency_ms: number
    response_body: string | null
  }[]
}

/**
 * A delivery with its attempts. An attempt's answer body is shown only if the attempt started after its
 * endpoint was verified (answered a 2xx at its current URL); its error, by category only.
 */
export async function findDelivery(tx: Tx, id: string): Promise<DeliveryDetailRow | undefined> {
  const [row] = await tx<DeliveryDetailRow[]>`
    select ${deliveryColumns(tx)},
      json_build_object('id', e.id, 'type', e.type, 'created_at', e.created_at, 'org_id', e.org_id, 'data', e.data) as event,
      coalesce((select json_agg(json_build_object('attempt', a.attempt, 'started_at', a.started_at, 'status_code', a.status_code,
                 'error', agentry.webhook_error_shown(a.status_code, a.error_kind, a.error), 'latency_ms', a.latency_ms,
                 'response_body', case when a.started_at > ep.verified_at then a.response_body end) order by a.id)
                from agentry.webhook_attempts a left join agentry.webhook_endpoints ep on ep.id = a.endpoint_id
                where a.delivery_id = d.id), '[]') as attempts
    from agentry.webhook_deliveries d join agentry.events e on e.id = d.event_id
    where d.id = ${id}`
  return row
}

/** Due now, whatever it was (a delivery in flight is left to finish). */
export async function retryDelivery(tx: Tx, id: string): Promise<DeliveryRow | 'in_flight' | undefined> {
  const [current] = await tx<{ in_flight: boolean }[]>`
    select locked_until is not null and locked_until > now() as in_flight from agentry.webhook_deliveries where id = ${id} for update`
  if (!current) return undefined
  if (current.in_flight) return 'in_flight'
  await tx`update agentry.webhook_deliveries set status = 'pending', next_attempt_at = now() where id = ${id}`
  const [row] = await tx<DeliveryRow[]>`
    select ${deliveryColumns(tx)} from agentry.webhook_deliveries d join agentry.events e on e.id = d.event_id where d.id = ${id}`
  return row
}

export interface HealthRow {
  endpoint_id: string
  url: string
  state: 'healthy' | 'failing' | 'disabled' | 'idle'
  enabled: boolean
  attempts_24h: number
  success_rate: number | null
  latency_p50_ms: number | null
  latency_p95_ms: number | null
  consecutive_failures: number
  failing_since: string | null
}

/** Per endpoint, over the last 24 hours of attempts; failures count back to the last success. */
export async function endpointHealth(tx: Tx): Promise<HealthRow[]> {
  return tx<HealthRow[]>`
    select ep.id as endpoint_id, ep.url, ep.enabled,
      case when not ep.enabled then 'disabled' when s.failures > 0 then 'failing' when s.attempts = 0 then
        'idle' else 'healthy' end as state,
      s.attempts::float8 as attempts_24h,
      case when s.attempts > 0 then round(s.succeeded::numeric / s.attempts, 4)::float8 end as success_rate,
      s.p50::float8 as latency_p50_ms, s.p95::float8 as latency_p95_ms,
      s.failures::float8 as consecutive_failures,
      to_json(ep.failing_since) #>> '{}' as failing_since
    from agentry.webhook_endpoints ep
    cross join lateral (
      select
        count(*) filter (where a.started_at > now() - interval '24 hours') as attempts,
        count(*) filter (where a.started_at > now() - interval '24 hours' and a.status_code between 200 and 299) as succeeded,
        percentile_cont(0.5) within group (order by a.latency_ms) filter (where a.started_at > now() - interval '24 hours') as p50,
        percentile_cont(0.95) within group (order by a.latency_ms) filter (where a.started_at > now() - interval '24 hours') as p95,
        count(*) filter (where a.started_at > coalesce(
          (select max(b.started_at) from agentry.webhook_attempts b where b.endpoint_id = ep.id and b.status_code between 200 and 299),
          '-infinity')) as failures
      from agentry.webhook_attempts a where a.endpoint_id = ep.id
    ) s
    order by ep.created_at, ep.id`
}
