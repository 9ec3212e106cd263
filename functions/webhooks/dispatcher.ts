// The dispatcher: claims due deliveries (FOR UPDATE SKIP LOCKED, under a lease), POSTs them signed, and
// records each attempt with what comes next: delivered, tried again later, or dead. Any number of
// dispatchers may run against one database (processes, or Supabase function invocations): a claimed
// delivery is invisible to the others until its lease runs out, so a dispatcher that dies loses nothing.
// Receivers are other people's servers: nothing they answer is stored before it is made safe to store, and
// a slow one holds only its own requests. Not a tenant's work: it runs on the service connection.
import { databaseNow, now } from '../_core/clock.ts'
import type { Sql } from '../_core/db.ts'
import { keptBodyBytes, OutboundError, type Transport } from '../_core/outbound.ts'
import { claimDueDeliveries, recordOutcomes, type Claimed, type Outcome } from './queue.ts'
import { maxAttempts, nextAttemptAt, retryAfterSeconds } from './schedule.ts'
import { signatureHeaders } from './signing.ts'

export interface DispatchOptions {
  transport: Transport
  /** Deliveries claimed at once (default 100). */
  batchSize?: number
  /**
   * Requests in flight at once (default 50). In a running dispatcher a fifth of them is kept for
   * organisations with nothing in flight, so that a quiet tenant never waits behind another's slow receivers.
   */
  concurrency?: number
  /** Requests to one endpoint in flight at once, across dispatchers (default 10): its fair share. */
  endpointConcurrency?: number
  /**
   * Requests to one endpoint in flight at once, across dispatchers, while no other endpoint has due work
   * waiting (default 50). A running dispatcher gives such a burst only slots that leave one endpoint's
   * share free besides the fifth kept for quiet organisations, so a receiver that hangs mid-burst never
   * holds all of them.
   */
  endpointBurst?: number
  /** A receiver has this long to answer with a 2xx (default 15 s). */
  timeoutMs?: number
  /** How long a claim holds (default: the timeout and a minute): after it, another dispatcher may take the delivery. */
  leaseSeconds?: number
  /** Hears what went wrong without stopping the dispatcher: a claim that failed, an outcome that could not be recorded. */
  onError?: (error: unknown) => void
}

export const notifyChannel = 'agentry_webhook_deliveries'

/** The most of an error text kept (an error may quote a receiver's header, which may be kilobytes long). */
const maxErrorChars = 1000

/**
 * Text as the delivery log keeps it, whatever a receiver sent: at most `maxChars` characters, well formed
 * (a lone surrogate becomes U+FFFD), and without NUL or other control characters but tab, line feed and
 * carriage return (each becomes U+FFFD). Bytes that are not UTF-8 became U+FFFD when the transport decoded
 * them. Postgres refuses NUL in text and in jsonb, and one refused value must not cost a batch its record.
 */
export function storableText(text: string, maxChars: number): string {
  return (
    text
      .slice(0, maxChars)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters replaced
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  )
}

/**
 * Sends one claimed delivery and says how it ended and what comes next. Its times (the signature's, the
 * next attempt's, a Retry-After date's distance) are the product's clock; how long it took is measured.
 */
async function attempt(d: Claimed, transport: Transport, timeoutMs: number): Promise<Outcome> {
  const started = new Date(now())
  const startedTick = performance.now()
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
  let errorKind: string | null = null
  let body: string | null = null
  let retryAfter: number | null = null
  try {
    const res = await transport({ url: d.url, headers, body: d.body, timeoutMs })
    status = res.status
    body = storableText(res.body, keptBodyBytes)
    if (status >= 300 && status < 400)
      error = `Redirect (${status}) to ${storableText(res.headers.get('location') ?? 'nowhere', 500)} not followed`
    else if (status < 200 || status >= 300) error = `Receiver answered ${status}`
    retryAfter = retryAfterSeconds(res.headers.get('retry-after'), started)
  } catch (e) {
    errorKind = e instanceof OutboundError ? e.kind : 'request'
    error = storableText(e instanceof OutboundError ? e.message : `Request failed: ${(e as Error)?.message ?? String(e)}`, maxErrorChars)
  }
  const latencyMs = Math.ceil(performance.now() - startedTick)
  const finished = new Date(now())
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
    error_kind: errorKind,
    latency_ms: latencyMs,
    response_body: body,
    outcome,
    next_attempt_at: next?.toISOString() ?? null,
  }
}

/**
 * Records outcomes as they come rather than a batch at a time: whatever arrives while one group is being
 * written goes in the next, so a slow receiver delays no other delivery's record.
 */
function outcomeRecorder(sql: Sql, onError: (error: unknown) => void, onRecorded: () => void = () => {}) {
  const waiting: Outcome[] = []
  let writing: Promise<void> | null = null
  const write = async () => {
    while (waiting.length > 0) {
      const group = waiting.splice(0, 100)
      try {
        for (const error of await recordOutcomes(sql, group)) onError(error)
      } catch (error) {
        onError(error)
      }
      onRecorded()
    }
    writing = null
  }
  return {
    add(outcome: Outcome) {
      waiting.push(outcome)
      writing ??= write()
    },
    async drained() {
      while (writing) await writing
    },
  }
}

function claimSettings(options: DispatchOptions) {
  const timeoutMs = options.timeoutMs ?? 15_000
  return {
    timeoutMs,
    leaseSeconds: options.leaseSeconds ?? Math.ceil(timeoutMs / 1000) + 60,
    perEndpoint: options.endpointConcurrency ?? 10,
    endpointBurst: options.endpointBurst ?? 50,
    maxAttempts,
  }
}

/** Runs `task` over `items` with at most `limit` running at once. */
async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await task(items[next++])
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * One pass: claim a batch, send it, recording each outcome as it comes. Returns how many deliveries were
 * claimed. For callers that run in short invocations (the Supabase dispatcher function); a process runs
 * startDispatcher, which does not wait for a batch's slowest receiver before claiming more.
 */
export async function dispatchBatch(sql: Sql, options: DispatchOptions): Promise<number> {
  const { timeoutMs, ...settings } = claimSettings(options)
  const claimed = await claimDueDeliveries(sql, { ...settings, limit: options.batchSize ?? 100 })
  if (claimed.length === 0) return 0
  const recorder = outcomeRecorder(sql, options.onError ?? (() => {}))
  await inParallel(claimed, options.concurrency ?? 50, async (d) => recorder.add(await attempt(d, options.transport, timeoutMs)))
  await recorder.drained()
  return claimed.length
}

/**
 * Forgets events older than `days` whose deliveries have all ended (delivered or dead), with those
 * deliveries and their attempts, so the log keeps a bounded history. Returns how many events went.
 */
export async function pruneDeliveryLog(sql: Sql, days: number): Promise<number> {
  const gone = await sql`
    delete from agentry.events e
    where e.created_at < coalesce(${databaseNow()}::timestamptz, now()) - make_interval(days => ${days})
      and not exists (select 1 from agentry.webhook_deliveries d where d.event_id = e.id and d.status in ('pending', 'failed'))
    returning 1`
  return gone.length
}

export interface RunningDispatcher {
  stop(): Promise<void>
}

/**
 * Dispatches until stopped, keeping up to `concurrency` requests in flight: it claims as slots free up (and
 * outcomes are recorded), at once when a delivery is created (LISTEN on the channel the fan-out trigger
 * notifies), and every `pollMs` besides, so that retries come due and a lost notification only delays. A
 * slow receiver holds its own slots only. Keeps the delivery log to `retentionDays` (30) of history.
 */
export function startDispatcher(sql: Sql, options: DispatchOptions & { pollMs?: number; retentionDays?: number }): RunningDispatcher {
  const pollMs = options.pollMs ?? 1000
  const concurrency = options.concurrency ?? 50
  const batchSize = options.batchSize ?? 100
  const reserved = Math.floor(concurrency / 5)
  const { timeoutMs, ...settings } = claimSettings(options)
  const onError = (error: unknown) => options.onError?.(error)
  // Hourly, and once at the start: several dispatchers pruning at once only repeat a cheap delete.
  const prune = () => pruneDeliveryLog(sql, options.retentionDays ?? 30).catch(onError)
  void prune()
  const pruning = setInterval(prune, 3600_000)
  let running = true
  let wake: () => void = () => {}
  let woken = false
  const signal = () => {
    woken = true
    wake()
  }
  // A recorded outcome frees its endpoint's slot in the database: time to claim again.
  const recorder = outcomeRecorder(sql, onError, signal)
  const inFlight = new Set<Promise<void>>()
  const send = (d: Claimed) => {
    const sending = attempt(d, options.transport, timeoutMs)
      .then((outcome) => recorder.add(outcome), onError)
      .finally(() => inFlight.delete(sending))
    inFlight.add(sending)
  }
  const listening = sql.listen(notifyChannel, signal)
  const loop = (async () => {
    await listening.catch(onError)
    while (running) {
      woken = false
      let more = false
      const free = concurrency - inFlight.size
      if (free > 0) {
        try {
          const limit = Math.min(batchSize, free)
          const claimed = await claimDueDeliveries(sql, {
            ...settings,
            limit,
            busyLimit: Math.max(0, Math.min(limit, free - reserved)),
            burstLimit: Math.max(0, free - reserved - settings.perEndpoint),
          })
          for (const d of claimed) send(d)
          more = claimed.length === limit && inFlight.size < concurrency
        } catch (error) {
          onError(error)
        }
      }
      if (!running) break
      if (more || woken) continue
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
      await Promise.all(inFlight)
      await recorder.drained()
      await listening.then((l) => l.unlisten()).catch(() => {})
    },
  }
}
