// The delivery queue as dispatchers see it: claiming due deliveries fairly, and recording what became of
// them. Not a tenant's work: both run on the service connection.
import { databaseNow } from '../_core/clock.ts'
import type { Sql } from '../_core/db.ts'

export interface Claimed {
  id: string
  attempt: number
  event_id: string
  url: string
  secret: string
  previous_secret: string | null
  body: string
}

export interface ClaimOptions {
  /** Deliveries claimed at most. */
  limit: number
  /**
   * How many of them may go to organisations that already have a delivery in flight; the rest of `limit`
   * is kept for the first delivery of organisations that have none (default: all of `limit`).
   */
  busyLimit?: number
  /** How long a claim holds: after it, another dispatcher may take the delivery. */
  leaseSeconds: number
  /** Deliveries to one endpoint in flight at once, across dispatchers: its fair share. */
  perEndpoint: number
  /**
   * Deliveries to one endpoint in flight at once, across dispatchers, while no other endpoint has due work
   * waiting (default: `perEndpoint`, no more). Work-conserving: a lone busy endpoint is not held to its
   * share of slots nobody else wants, and is held to it again from the first claim that sees another's.
   */
  endpointBurst?: number
  /**
   * The most one claim gives an endpoint that is over its share (default: all of `limit`); never less than
   * the share itself. A dispatcher keeps room with it, so that a receiver that hangs after a burst does not
   * hold every slot while another endpoint's work comes due.
   */
  burstLimit?: number
  /** Attempts a delivery gets: one whose last attempt was abandoned (its lease ran out) is dead, not tried again. */
  maxAttempts: number
}

export const abandonedError = 'No outcome was recorded for the last attempt (the dispatcher stopped); no attempts are left'

/**
 * Claims due deliveries: not final, due, not held by a live lease, to an enabled endpoint (or addressed to
 * it), under a lease, counting the attempt. Fair by construction:
 * - endpoints with queued work are found by a loose index scan, and each gives at most `perEndpoint` less
 *   what it already has in flight, oldest due first, so no endpoint's backlog is read past that;
 * - the candidates are taken in order of load: an organisation's in-flight deliveries plus its place among
 *   its own candidates (which alternate between its endpoints the same way). Each claim therefore serves
 *   the least busy organisations first, and a quiet organisation's first delivery goes before a busy
 *   organisation's next one, however old the busy one's backlog.
 * - an endpoint over its share: when it is the only endpoint with due work waiting (a delivery it could
 *   take now, or one held back by its share), it is given up to `endpointBurst` less what it has in
 *   flight, at most `burstLimit` in this claim. Any other endpoint with due work ends that at once.
 * Two dispatchers claiming at the same moment may each count an endpoint's in-flight deliveries before the
 * other's claim commits, so the per-endpoint cap can be passed by that much, briefly.
 * A delivery that already has `maxAttempts` attempts and whose lease ran out is marked dead instead: an
 * attempt whose outcome never got recorded must not be retried forever.
 */
export async function claimDueDeliveries(sql: Sql, o: ClaimOptions): Promise<Claimed[]> {
  const busyLimit = o.busyLimit ?? o.limit
  const burst = Math.max(o.endpointBurst ?? o.perEndpoint, o.perEndpoint)
  const burstLimit = o.burstLimit ?? o.limit
  // The product's clock (functions/_core/clock.ts): due-ness, leases and the previous secret's day follow it.
  const t = sql`coalesce(${databaseNow()}::timestamptz, now())`
  return sql<Claimed[]>`
    with recursive queued_endpoints(endpoint_id) as (
      (select endpoint_id from agentry.webhook_deliveries where status in ('pending', 'failed') order by endpoint_id limit 1)
      union all
      select (select d.endpoint_id from agentry.webhook_deliveries d
              where d.status in ('pending', 'failed') and d.endpoint_id > q.endpoint_id order by d.endpoint_id limit 1)
      from queued_endpoints q where q.endpoint_id is not null
    ),
    endpoints as (
      select ep.id, ep.org_id, ep.enabled, agentry.webhook_endpoint_in_flight(ep.id, ${t}) as busy
      from queued_endpoints q
      join agentry.webhook_endpoints ep on ep.id = q.endpoint_id
    ),
    organisations as (select org_id, sum(busy)::integer as busy from endpoints group by org_id),
    fair as (
      select c.id, c.next_attempt_at, ep.id as endpoint_id, ep.org_id, ep.busy
      from endpoints ep
      cross join lateral (
        (select d.id, d.next_attempt_at from agentry.webhook_deliveries d
         where ep.enabled and d.endpoint_id = ep.id and d.status in ('pending', 'failed') and d.next_attempt_at <= ${t}
           and (d.locked_until is null or d.locked_until < ${t})
         order by d.next_attempt_at limit least(greatest(${o.perEndpoint}::integer - ep.busy, 0), ${o.limit}::integer))
        union all
        -- A disabled endpoint still gets what is addressed to it alone (webhook.test), found through its events.
        (select d.id, d.next_attempt_at from agentry.events e
         join agentry.webhook_deliveries d on d.event_id = e.id and d.endpoint_id = e.endpoint_id
         where not ep.enabled and e.endpoint_id = ep.id and d.status in ('pending', 'failed') and d.next_attempt_at <= ${t}
           and (d.locked_until is null or d.locked_until < ${t})
         order by d.next_attempt_at limit least(greatest(${o.perEndpoint}::integer - ep.busy, 0), ${o.limit}::integer))
      ) c
    ),
    -- Endpoints with due work waiting: given some in the fair pass, or already at their share with more due
    -- (the two never overlap). Only whether there is exactly one matters, so no more than two are looked for.
    waiting as (
      select distinct endpoint_id as id from fair
      union all
      select ep.id from endpoints ep
      where ${burst}::integer > ${o.perEndpoint}::integer and ep.busy >= ${o.perEndpoint}::integer and (
        exists (select 1 from agentry.webhook_deliveries d
                where ep.enabled and d.endpoint_id = ep.id and d.status in ('pending', 'failed') and d.next_attempt_at <= ${t}
                  and (d.locked_until is null or d.locked_until < ${t}))
        or exists (select 1 from agentry.events e
                   join agentry.webhook_deliveries d on d.event_id = e.id and d.endpoint_id = e.endpoint_id
                   where not ep.enabled and e.endpoint_id = ep.id and d.status in ('pending', 'failed') and d.next_attempt_at <= ${t}
                     and (d.locked_until is null or d.locked_until < ${t})))
    ),
    -- The one endpoint with due work, if there is only one and it may burst: its candidates replace its fair ones.
    alone as (
      select ep.id, ep.org_id, ep.busy from endpoints ep
      where ${burst}::integer > ${o.perEndpoint}::integer and ep.enabled
        and ep.id = (select (array_agg(id))[1] from (select id from waiting limit 2) w having count(*) = 1)
    ),
    candidates as (
      select f.id, f.next_attempt_at, f.org_id,
        f.busy + row_number() over (partition by f.endpoint_id order by f.next_attempt_at) as endpoint_load
      from fair f where not exists (select 1 from alone a where a.id = f.endpoint_id)
      union all
      select c.id, c.next_attempt_at, a.org_id, a.busy + row_number() over (order by c.next_attempt_at) as endpoint_load
      from alone a
      cross join lateral (
        select d.id, d.next_attempt_at from agentry.webhook_deliveries d
        where d.endpoint_id = a.id and d.status in ('pending', 'failed') and d.next_attempt_at <= ${t}
          and (d.locked_until is null or d.locked_until < ${t})
        order by d.next_attempt_at
        limit greatest(least(${burst}::integer - a.busy, ${burstLimit}::integer, ${o.limit}::integer),
                       least(greatest(${o.perEndpoint}::integer - a.busy, 0), ${o.limit}::integer))
      ) c
    ),
    ranked as (
      select c.id, c.next_attempt_at,
        org.busy + row_number() over (partition by c.org_id order by c.endpoint_load, c.next_attempt_at) as load
      from candidates c join organisations org on org.org_id = c.org_id
    ),
    picked as (
      select id from (
        select id, load, next_attempt_at,
          count(*) filter (where load > 1) over (order by load, next_attempt_at, id rows unbounded preceding) as busy_taken
        from ranked
      ) r
      where load = 1 or busy_taken <= ${busyLimit}::integer
      order by load, next_attempt_at, id
      limit ${o.limit}::integer
    ),
    claimed as (
      select d.id, d.attempt_count >= ${o.maxAttempts}::integer and d.locked_until is not null as abandoned
      from agentry.webhook_deliveries d
      -- By id: the picked few, not a pass over every queued delivery to find them. The status is checked as
      -- "neither final state" (the same, by the table's check) so that the queue's partial index cannot serve
      -- it: with statistics that lag behind a backlog, the planner combined it with the primary key and read
      -- the whole backlog's entries to take a few.
      where d.id = any(array(select id from picked)) and d.status not in ('delivered', 'dead') and d.next_attempt_at <= ${t}
        and (d.locked_until is null or d.locked_until < ${t})
      for update of d skip locked
    ),
    updated as (
      update agentry.webhook_deliveries d
      set locked_until = case when c.abandoned then null else ${t} + make_interval(secs => ${o.leaseSeconds}) end,
          attempt_count = case when c.abandoned then d.attempt_count else d.attempt_count + 1 end,
          status = case when c.abandoned then 'dead' else d.status end,
          last_error = case when c.abandoned then ${abandonedError} else d.last_error end
      from claimed c, agentry.events e, agentry.webhook_endpoints ep
      where d.id = c.id and e.id = d.event_id and ep.id = d.endpoint_id
      returning c.abandoned, d.id, d.attempt_count as attempt, d.event_id, ep.url, ep.secret,
        case when ep.previous_secret_expires_at > ${t} then ep.previous_secret end as previous_secret,
        (select row_to_json(envelope) from (select e.id, e.type, e.created_at, e.org_id, e.data) as envelope)::text as body
    )
    select id, attempt, event_id, url, secret, previous_secret, body from updated where not abandoned`
}

export interface Outcome {
  id: string
  attempt: number
  started_at: string
  status_code: number | null
  error: string | null
  /** How an attempt that got no answer failed, as the transport said ('blocked', 'timeout', 'network'), or 'request'. */
  error_kind: string | null
  latency_ms: number
  response_body: string | null
  outcome: 'delivered' | 'failed' | 'dead'
  next_attempt_at: string | null
}

/** What an attempt is recorded with when its own outcome could not be stored. */
export const unrecordableError = "The receiver's answer could not be stored"

/**
 * Records attempts, a batch in one statement. Should that fail, each is recorded on its own, so that one
 * outcome that cannot be stored never holds the others; one that still fails is recorded without its body
 * and with a generic error, rather than left leased to be sent again. Returns the errors met on the way.
 */
export async function recordOutcomes(sql: Sql, outcomes: Outcome[]): Promise<unknown[]> {
  if (outcomes.length === 0) return []
  try {
    await recordBatch(sql, outcomes)
    return []
  } catch (error) {
    const errors = [error]
    for (const o of outcomes) {
      if (outcomes.length > 1) {
        try {
          await recordBatch(sql, [o])
          continue
        } catch (single) {
          errors.push(single)
        }
      }
      await recordBatch(sql, [{ ...o, response_body: null, error: o.error === null ? null : unrecordableError }]).catch((e) =>
        errors.push(e),
      )
    }
    return errors
  }
}

/**
 * The attempts, the deliveries' new state (only if the lease is still this attempt's), and each endpoint's
 * failing streak, in one statement. An endpoint that answered 410 Gone, or has failed every delivery for
 * five days, is disabled, and the organisation's other endpoints hear of it.
 */
async function recordBatch(sql: Sql, outcomes: Outcome[]): Promise<void> {
  const t = sql`coalesce(${databaseNow()}::timestamptz, clock_timestamp())`
  // The deliveries are found by their ids as an array, which the planner counts: joined to the outcomes alone
  // (estimated at 100 rows whatever their number), a table whose statistics lag behind a burst was read whole.
  const ids = outcomes.map((o) => o.id)
  await sql`
    with r as (
      select * from jsonb_to_recordset(${sql.json(outcomes as never)}) as r(
        id uuid, attempt integer, started_at timestamptz, status_code integer, error text, error_kind text, latency_ms integer,
        response_body text, outcome text, next_attempt_at timestamptz)
    ),
    attempts as (
      insert into agentry.webhook_attempts (delivery_id, endpoint_id, org_id, agent_id, attempt, started_at, status_code, error,
        error_kind, latency_ms, response_body)
      select r.id, d.endpoint_id, d.org_id, d.agent_id, r.attempt, r.started_at, r.status_code, r.error, r.error_kind,
        r.latency_ms, r.response_body
      from r join agentry.webhook_deliveries d on d.id = r.id
      where d.id = any(${ids}::uuid[])
    ),
    settled as (
      update agentry.webhook_deliveries d
      set status = r.outcome, next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at), locked_until = null,
          last_error = r.error, last_status_code = r.status_code,
          delivered_at = case when r.outcome = 'delivered' then ${t} else d.delivered_at end,
          delivery_latency_ms = case when r.outcome = 'delivered'
            then round(extract(epoch from ${t} - e.created_at) * 1000)::integer else d.delivery_latency_ms end
      from r, agentry.events e
      where d.id = any(${ids}::uuid[]) and d.id = r.id and d.attempt_count = r.attempt and e.id = d.event_id
      returning d.endpoint_id, r.outcome, r.status_code
    ),
    streaks as (
      select s.endpoint_id, ep.org_id, ep.url,
        case when s.succeeded then null else coalesce(ep.failing_since, ${t}) end as failing_since,
        ep.enabled and (s.gone or (not s.succeeded and coalesce(ep.failing_since < ${t} - interval '5 days', false))) as disable,
        case when s.gone then 'gone' else 'failing' end as reason
      from (select endpoint_id, bool_or(outcome = 'delivered') as succeeded, coalesce(bool_or(status_code = 410), false) as gone
            from settled group by endpoint_id) s
      join agentry.webhook_endpoints ep on ep.id = s.endpoint_id
    ),
    endpoints as (
      update agentry.webhook_endpoints ep
      set failing_since = s.failing_since,
          enabled = ep.enabled and not s.disable,
          disabled_reason = case when s.disable then s.reason else ep.disabled_reason end,
          disabled_at = case when s.disable then ${t} else ep.disabled_at end
      from streaks s
      where ep.id = s.endpoint_id and (s.disable or ep.failing_since is distinct from s.failing_since)
      returning ep.id
    )
    insert into agentry.events (org_id, type, data)
    select s.org_id, 'webhook.endpoint.disabled',
      jsonb_build_object('endpoint_id', s.endpoint_id, 'url', s.url, 'reason', s.reason)
    from streaks s where s.disable`
}
