// The process's one hub of live event streams. One LISTEN connection per process hears that an
// organisation's events committed (through any API process: the trigger notifies `agentry_events` with
// the organisation's id, nothing more). The hub wakes that organisation's readers; each reads the new
// events from agentry.events under its subscribers' own claims and offers them to its subscribers, so RLS
// decides what a key sees and the notification is never trusted for data. Subscribers with the same
// claims share one reader: a thousand streams of one key cost one query per event, not a thousand.
import postgres from 'postgres'
import { beforeDatabaseCloses, type TenantClaims, withTenant } from '../_core/db.ts'
import { readEnv } from '../_core/env.ts'
import { ApiError } from '../_core/errors.ts'
import { unrefTimer } from '../_core/timers.ts'
import { isAfter, type StreamPosition } from './position.ts'
import { currentPosition, eventsAfter, listenFor } from './queries.ts'
import { type StreamFilter, Subscription, slowConsumerMessage } from './subscription.ts'

const channel = 'agentry_events'
const readBatch = 500
// An event held behind a transaction still running is read again this soon: its end notifies nobody.
const heldRetryMs = 15
// A safety net: readers also look every so often, in case a notification was lost (a reconnect).
const sweepMs = 5_000
const sweepWithoutListenMs = 1_000
// How long producers keep raising an organisation's events after its last stream here closed: a client that
// reconnects within it misses nothing. Renewed at a third of it while streams are open.
const listenSeconds = 120

const processId = crypto.randomUUID()

/** Every stream of one set of claims in this process, and their shared reader. */
class Reader {
  readonly subscriptions = new Set<Subscription>()
  private reading = false
  private again = false
  private slowCheck: ReturnType<typeof setTimeout> | undefined
  // Events a read asks for: fewer while a subscriber is catching up and takes only part of each read.
  private limit = readBatch

  constructor(readonly claims: TenantClaims) {}

  wake(): void {
    if (this.reading) {
      this.again = true
      return
    }
    void this.read()
  }

  private async read() {
    this.reading = true
    try {
      do {
        this.again = false
        // From the furthest behind of those with room; a full one is read for again when it has room.
        let from: StreamPosition | null = null
        for (const s of this.subscriptions) if (!s.full && (!from || isAfter(from, s.position))) from = s.position
        if (!from) break
        const after = from
        const { events, held, more } = await withTenant(this.claims, (tx) =>
          eventsAfter(tx, this.claims.org_id, after, this.limit, backlogBytes()),
        )
        let fewest = Number.POSITIVE_INFINITY
        for (const s of this.subscriptions) {
          const { consumed, stopped } = s.offer(events)
          if (stopped) fewest = Math.min(fewest, consumed)
        }
        this.limit =
          fewest === Number.POSITIVE_INFINITY ? Math.min(readBatch, this.limit * 2) : Math.max(16, Math.min(readBatch, fewest * 2))
        if (more) this.again = true
        if (held) unrefTimer(setTimeout(() => this.wake(), heldRetryMs))
      } while (this.again)
      this.endSlowConsumers()
    } catch (error) {
      console.error('event stream read failed:', error instanceof Error ? error.message : error)
      unrefTimer(setTimeout(() => this.wake(), 1_000))
    } finally {
      this.reading = false
    }
  }

  /** Ends those behind for longer than allowed, and looks again when the next one would be. */
  private endSlowConsumers() {
    const now = Date.now()
    const allowed = slowConsumerMs()
    let next: number | undefined
    for (const s of [...this.subscriptions]) {
      if (s.behindSince === undefined) continue
      if (now - s.behindSince >= allowed) s.end({ code: 'slow_consumer', message: slowConsumerMessage })
      else next = Math.min(next ?? Number.POSITIVE_INFINITY, s.behindSince + allowed - now)
    }
    if (next !== undefined && !this.slowCheck) {
      this.slowCheck = setTimeout(() => {
        this.slowCheck = undefined
        this.wake()
      }, next + 5)
      unrefTimer(this.slowCheck)
    }
  }
}

const readers = new Map<string, Reader>()
const readersByOrg = new Map<string, Set<Reader>>()
let listening: Promise<void> | undefined
let listener: postgres.Sql | undefined
let listenFailed = false
let timers: ReturnType<typeof setInterval>[] = []

function readerKey(c: TenantClaims): string {
  return JSON.stringify([c.org_id, c.agent_id, c.sub, c.key_id, [...c.scopes].sort()])
}

function wakeOrg(orgId: string) {
  for (const reader of readersByOrg.get(orgId) ?? []) reader.wake()
}

function wakeAll() {
  for (const reader of readers.values()) reader.wake()
}

/** The LISTEN connection and the timers, started with the first stream. */
function startListening(): Promise<void> {
  listening ??= (async () => {
    const url = readEnv('DATABASE_URL') ?? readEnv('SUPABASE_DB_URL')
    if (!url) throw new Error('DATABASE_URL (or SUPABASE_DB_URL) is not set')
    listener = postgres(url, {
      max: 1,
      prepare: false,
      onnotice: () => {},
      connection: { application_name: 'agentry-events' },
    })
    // Heard again after a reconnect: whatever was notified meanwhile is read now.
    await listener
      .listen(channel, (orgId) => wakeOrg(orgId), wakeAll)
      .catch((error) => {
        // Behind a transaction-mode pooler LISTEN is not possible: the sweep alone then finds new events.
        listenFailed = true
        console.error('event streams cannot LISTEN, polling instead:', error instanceof Error ? error.message : error)
      })
    timers = [setInterval(wakeAll, listenFailed ? sweepWithoutListenMs : sweepMs), setInterval(renewListening, (listenSeconds * 1000) / 3)]
    for (const timer of timers) unrefTimer(timer)
    beforeDatabaseCloses(stopStreams)
  })()
  return listening
}

/** The types producers must raise for an organisation's streams in this process. */
function typesListenedTo(orgId: string, extra?: StreamFilter): string[] {
  const all = new Set<string>()
  const filters = [...(readersByOrg.get(orgId) ?? [])].flatMap((r) => [...r.subscriptions].map((s) => s.filter))
  for (const filter of extra ? [...filters, extra] : filters) {
    if (!filter.types) return ['*']
    for (const type of filter.types) all.add(type)
  }
  return all.size && all.size <= 100 ? [...all] : ['*']
}

/** What this process last told the database it listens to, per organisation, and when. */
const listeningSaid = new Map<string, { types: string[]; at: number }>()

function coversTypes(said: string[], wanted: string[]): boolean {
  return said.includes('*') || wanted.every((type) => said.includes(type))
}

async function renewListening() {
  for (const [orgId, orgReaders] of readersByOrg) {
    const [reader] = orgReaders
    if (!reader) continue
    const types = typesListenedTo(orgId)
    await withTenant(reader.claims, (tx) => listenFor(tx, processId, types, listenSeconds)).then(
      () => listeningSaid.set(orgId, { types, at: Date.now() }),
      (error) => console.error('event stream listening not renewed:', error instanceof Error ? error.message : error),
    )
  }
  // Organisations with no stream left lapse on their own; forget them here too.
  for (const orgId of listeningSaid.keys()) if (!readersByOrg.has(orgId)) listeningSaid.delete(orgId)
}

/** The most streams one organisation may have open in this process (EVENT_STREAMS_PER_ORG, default 100). */
function streamsPerOrg(): number {
  const n = Number(readEnv('EVENT_STREAMS_PER_ORG') ?? 100)
  return Number.isInteger(n) && n > 0 ? n : 100
}

/** The backlog one stream may have waiting before it is ended as a slow consumer (EVENT_STREAM_BACKLOG_BYTES, default 1 MiB). */
export function backlogBytes(): number {
  const n = Number(readEnv('EVENT_STREAM_BACKLOG_BYTES') ?? 1024 * 1024)
  return Number.isFinite(n) && n > 0 ? n : 1024 * 1024
}

/** How long a stream may stay behind with a full backlog before it is ended (EVENT_STREAM_SLOW_MS, default 10 s). */
export function slowConsumerMs(): number {
  const n = Number(readEnv('EVENT_STREAM_SLOW_MS') ?? 10_000)
  return Number.isFinite(n) && n >= 0 ? n : 10_000
}

const openPerOrg = new Map<string, number>()

/**
 * Opens a subscription for these claims: after `after` (a Last-Event-ID), or from now. Refused with 429
 * when the organisation already has its most streams open here.
 */
export async function subscribe(claims: TenantClaims, filter: StreamFilter, after: StreamPosition | null): Promise<Subscription> {
  const orgId = claims.org_id
  const open = openPerOrg.get(orgId) ?? 0
  const cap = streamsPerOrg()
  if (open >= cap) {
    throw new ApiError(
      'too_many_concurrent_requests',
      `This organisation already has ${cap} event streams open, the most allowed at once; close one or retry later.`,
      undefined,
      { 'Retry-After': '5' },
    )
  }
  openPerOrg.set(orgId, open + 1)
  let counted = true
  const release = () => {
    if (!counted) return
    counted = false
    const left = (openPerOrg.get(orgId) ?? 1) - 1
    if (left > 0) openPerOrg.set(orgId, left)
    else openPerOrg.delete(orgId)
  }
  try {
    await startListening()
    const types = typesListenedTo(orgId, filter)
    // Said once per organisation and set of types, not once per stream: a thousand streams of one
    // organisation opening together would otherwise queue on the one row.
    const said = listeningSaid.get(orgId)
    const saying = !said || Date.now() - said.at > (listenSeconds * 1000) / 3 || !coversTypes(said.types, types)
    const start = await withTenant(claims, async (tx) => {
      if (saying) {
        await listenFor(tx, processId, types, listenSeconds)
        listeningSaid.set(orgId, { types, at: Date.now() })
      }
      return after ?? (await currentPosition(tx))
    })
    const key = readerKey(claims)
    let reader = readers.get(key)
    if (!reader) {
      reader = new Reader(claims)
      readers.set(key, reader)
      const orgReaders = readersByOrg.get(orgId) ?? new Set()
      orgReaders.add(reader)
      readersByOrg.set(orgId, orgReaders)
    }
    const owner = reader
    const subscription = new Subscription(
      filter,
      start,
      backlogBytes(),
      (s) => {
        release()
        owner.subscriptions.delete(s)
        if (owner.subscriptions.size) return
        readers.delete(key)
        const orgReaders = readersByOrg.get(orgId)
        orgReaders?.delete(owner)
        if (!orgReaders?.size) readersByOrg.delete(orgId)
      },
      () => owner.wake(),
    )
    owner.subscriptions.add(subscription)
    owner.wake()
    return subscription
  } catch (error) {
    release()
    throw error
  }
}

/** How many streams this process has open: for the bench and the logs. */
export function openStreams(): number {
  let n = 0
  for (const count of openPerOrg.values()) n += count
  return n
}

async function stopStreams() {
  for (const reader of [...readers.values()]) {
    for (const s of [...reader.subscriptions])
      s.end({ code: 'shutting_down', message: 'The server is shutting down; reconnect with Last-Event-ID.' })
  }
  for (const timer of timers) clearInterval(timer)
  timers = []
  listeningSaid.clear()
  const closing = listener
  listener = undefined
  listening = undefined
  listenFailed = false
  await closing?.end({ timeout: 1 })
}
