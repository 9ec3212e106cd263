// The dispatcher: claims due deliveries (FOR UPDATE SKIP LOCKED, under a lease), POSTs them signed, and
// records each attempt with what comes next: delivered, tried again later, or dead. Any number of
// dispatchers may run against one database (processes, or Supabase function invocations): a claimed
// delivery is invisible to the others until its lease runs out, so a dispatcher that dies loses nothing.
// Not a tenant's work: it runs on the service connection.
import type { Sql } from '../_core/db.ts'
import { OutboundError, type Transport } from '../_core/outbound.ts'
import { nextAttemptAt, retryAfterSeconds } from './schedule.ts'
import { signatureHeaders } from './signing.ts'

export interface DispatchOptions {
  transport: Transport
  /** Deliveries claimed at once (default 100). */
  batchSize?: number
  /** Requests in flight at once (default 50). */
  concurrency?: number
  /** A receiver has this long to answer with a 2xx (default 15 s). */
  timeoutMs?: number
  /** How long a claim holds (default: the timeout and a minute): after it, another dispatcher may take the delivery. */
  leaseSeconds?: number
}

export const notifyChannel = 'agentry_webhook_deliveries'

interface Claimed {
  id: string
  attempt: number
  event_id: string
  url: string
  secret: string
  previous_secret: string | null
  body: string
}

interface Outcome {
  id: string
  attempt: number
  started_at: string
  status_code: number | null
  error: string | null
  latency_ms: number
  response_body: string | null
  outcome: 'delivered' | 'failed' | 'dead'
  next_attempt_at: string | null
}

/** Claims due deliveries: not final, due, not held by a live lease, to an enabled endpoint (or addressed to it). */
export async function claimDueDeliveries(sql: Sql, batchSize: number, leaseSeconds: number): Promise<Claimed[]> {
  return sql<Claimed[]>`
    with due as (
      select d.id from agentry.webhook_deliveries d
      join agentry.webhook_endpoints ep on ep.id = d.endpoint_id
      join agentry.events e on e.id = d.event_id
      where d.status in ('pending', 'failed') and d.next_attempt_at <= now()
        and (d.locked_until is null or d.locked_until < now())
        and (ep.enabled or e.endpoint_id is not null)
      order by d.next_attempt_at
      limit ${batchSize}
      for update of d skip locked
    )
    update agentry.webhook_deliveries d
    set locked_until = now() + make_interval(secs => ${leaseSeconds}), attempt_count = d.attempt_count + 1
    from due, agentry.events e, agentry.webhook_endpoints ep
    where d.id = due.id and e.id = d.event_id and ep.id = d.endpoint_id
    returning d.id, d.attempt_count as attempt, d.event_id, ep.url, ep.secret,
      case when ep.previous_secret_expires_at > now() then ep.previous_secret end as previous_secret,
      (select row_to_json(envelope) from (select e.id, e.type, e.created_at, e.org_id, e.data) as envelope)::text as body`
}

/** Sends one claimed delivery and says how it ended and what comes next. */
async function attempt(d: Claimed, transport: Transport, timeoutMs: number): Promise<Outcome> {
  const started = new Date()
  const headers = signatureHeaders({
    eventId: d.event_id,
    deliveryId: d.id,
    attempt: d.attempt,
    body: d.body,
    secrets: d.previous_secret ? [d.secret, d.previous_secret] : [d.secret],
    at: started,
  })
  let status: number | null = null
  let error: string | null = null
  let body: string | null = null
  let retryAfter: number | null = null
  try {
    const res = await transport({ url: d.url, headers, body: d.body, timeoutMs })
    status = res.status
    body = res.body
    if (status >= 300 && status < 400) error = `Redirect (${status}) to ${res.headers.get('location') ?? 'nowhere'} not followed`
    else if (status < 200 || status >= 300) error = `Receiver answered ${status}`
    retryAfter = retryAfterSeconds(res.headers.get('retry-after'), started)
  } catch (e) {
    error = e instanceof OutboundError ? e.message : `Request failed: ${(e as Error)?.message ?? String(e)}`
  }
  const finished = new Date()
  let outcome: Outcome['outcome']
  let next: Date | null = null
  if (error === null) outcome = 'delivered'
  else if (status === 410) outcome = 'dead'
  else {
    next = nextAttemptAt(d.attempt, finished, retryAfter)
    outcome = next ? 'failed' : 'dead'
  }
  return {
    id: d.id,
    attempt: d.attempt,
    started_at: started.toISOString(),
    status_code: status,
    error,
    latency_ms: finished.getTime() - started.getTime(),
    response_body: body,
    outcome,
    next_attempt_at: next?.toISOString() ?? null,
  }
}

/**
 * Records a batch of attempts in one statement: the attempts, the deliveries' new state (only if the lease
 * is still this attempt's), and each endpoint's failing streak. An endpoint that answered 410 Gone, or has
 * failed every delivery for five days, is disabled, and the organisation's other endpoints hear of it.
 */
async function recordOutcomes(sql: Sql, outcomes: Outcome[]): Promise<void> {
  await sql`
    with r as (
      select * from jsonb_to_recordset(${sql.json(outcomes as never)}) as r(
        id uuid, attempt integer, started_at timestamptz, status_code integer, error text, latency_ms integer,
        response_body text, outcome text, next_attempt_at timestamptz)
    ),
    attempts as (
      insert into agentry.webhook_attempts (delivery_id, endpoint_id, org_id, agent_id, attempt, started_at, status_code, error, latency_ms, response_body)
      select r.id, d.endpoint_id, d.org_id, d.agent_id, r.attempt, r.started_at, r.status_code, r.error, r.latency_ms, r.response_body
      from r join agentry.webhook_deliveries d on d.id = r.id
    ),
    settled as (
      update agentry.webhook_deliveries d
      set status = r.outcome, next_attempt_at = coalesce(r.next_attempt_at, d.next_attempt_at), locked_until = null,
          last_error = r.error, last_status_code = r.status_code,
          delivered_at = case when r.outcome = 'delivered' then clock_timestamp() else d.delivered_at end,
          delivery_latency_ms = case when r.outcome = 'delivered'
            then round(extract(epoch from clock_timestamp() - e.created_at) * 1000)::integer else d.delivery_latency_ms end
      from r, agentry.events e
      where d.id = r.id and d.attempt_count = r.attempt and e.id = d.event_id
      returning d.endpoint_id, r.outcome, r.status_code
    ),
    streaks as (
      select s.endpoint_id, ep.org_id, ep.url,
        case when s.succeeded then null else coalesce(ep.failing_since, now()) end as failing_since,
        ep.enabled and (s.gone or (not s.succeeded and coalesce(ep.failing_since < now() - interval '5 days', false))) as disable,
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
          disabled_at = case when s.disable then now() else ep.disabled_at end
      from streaks s
      where ep.id = s.endpoint_id and (s.disable or ep.failing_since is distinct from s.failing_since)
      returning ep.id
    )
    insert into agentry.events (org_id, type, data)
    select s.org_id, 'webhook.endpoint.disabled',
      jsonb_build_object('endpoint_id', s.endpoint_id, 'url', s.url, 'reason', s.reason)
    from streaks s where s.disable`
}

/** Runs `task` over `items` with at most `limit` running at once. */
async function inParallel<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await task(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** One pass: claim a batch, send it, record it. Returns how many deliveries were claimed. */
export async function dispatchBatch(sql: Sql, options: DispatchOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 15_000
  const claimed = await claimDueDeliveries(sql, options.batchSize ?? 100, options.leaseSeconds ?? Math.ceil(timeoutMs / 1000) + 60)
  if (claimed.length === 0) return 0
  const outcomes = await inParallel(claimed, options.concurrency ?? 50, (d) => attempt(d, options.transport, timeoutMs))
  await recordOutcomes(sql, outcomes)
  return claimed.length
}

/**
 * Forgets events older than `days` whose deliveries have all ended (delivered or dead), with those
 * deliveries and their attempts, so the log keeps a bounded history. Returns how many events went.
 */
export async function pruneDeliveryLog(sql: Sql, days: number): Promise<number> {
  const gone = await sql`
    delete from agentry.events e
    where e.created_at < now() - make_interval(days => ${days})
      and not exists (select 1 from agentry.webhook_deliveries d where d.event_id = e.id and d.status in ('pending', 'failed'))
    returning 1`
  return gone.length
}

export interface RunningDispatcher {
  stop(): Promise<void>
}

/**
 * Dispatches until stopped: at once when a delivery is created (LISTEN on the channel the fan-out trigger
 * notifies), and every `pollMs` besides, so that retries come due and a lost notification only delays.
 * Keeps the delivery log to `retentionDays` (30) of history.
 */
export function startDispatcher(
  sql: Sql,
  options: DispatchOptions & { pollMs?: number; retentionDays?: number; onError?: (error: unknown) => void },
): RunningDispatcher {
  const pollMs = options.pollMs ?? 1000
  // Hourly, and once at the start: several dispatchers pruning at once only repeat a cheap delete.
  const prune = () => pruneDeliveryLog(sql, options.retentionDays ?? 30).catch((error) => options.onError?.(error))
  void prune()
  const pruning = setInterval(prune, 3600_000)
  let running = true
  let wake: () => void = () => {}
  let woken = false
  const listening = sql.listen(notifyChannel, () => {
    woken = true
    wake()
  })
  const loop = (async () => {
    await listening.catch((error) => options.onError?.(error))
    while (running) {
      woken = false
      let claimed = 0
      try {
        claimed = await dispatchBatch(sql, options)
      } catch (error) {
        options.onError?.(error)
      }
      if (!running) break
      if (claimed === (options.batchSize ?? 100) || woken) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      wake = () => {}
    }
  })()
  return {
    async stop() {
      running = false
      clearInterval(pruning)
      wake()
      await loop
      await listening.then((l) => l.unlisten()).catch(() => {})
    },
  }
}
