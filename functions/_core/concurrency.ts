import type { MiddlewareHandler } from 'hono'
import { now as clockNow } from './clock.ts'
import { ApiError } from './errors.ts'
import type { ApiEnv } from './server.ts'

/**
 * Requests each organisation has in flight in this process. The connection pool is per process, so the
 * count that protects it is too: an organisation at its cap holds at most that many of the pool's
 * connections, and the rest stay free for everyone else.
 */
const inFlight = new Map<string, number>()

/** Takes one of the organisation's slots, or returns null when all `cap` of them are in use. */
export function enterOrganisation(orgId: string, cap: number): (() => void) | null {
  noteActivity(orgId)
  const count = inFlight.get(orgId) ?? 0
  if (count >= cap) return null
  inFlight.set(orgId, count + 1)
  let released = false
  return () => {
    if (released) return
    released = true
    const left = (inFlight.get(orgId) ?? 1) - 1
    if (left > 0) inFlight.set(orgId, left)
    else inFlight.delete(orgId)
  }
}

/** How many requests the organisation has in flight in this process. */
export function requestsInFlight(orgId: string): number {
  return inFlight.get(orgId) ?? 0
}

/**
 * Holds one of the caller's organisation's slots (its plan's max_concurrent_requests) from authentication
 * until the handler has returned; past the cap the request is refused at once with 429. A streamed answer
 * (chat) gives its slot back when the handler returns the stream, not when the stream ends: the stream
 * then waits on the model, and its final write is one short transaction.
 */
export const limitConcurrency: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const { orgId, maxConcurrentRequests: cap } = c.get('principal')
  const release = enterOrganisation(orgId, cap)
  if (!release) {
    throw new ApiError(
      'too_many_concurrent_requests',
      `This organisation already has ${cap} requests in flight, the most its plan allows at once; retry in 1 s.`,
      undefined,
      { 'Retry-After': '1' },
    )
  }
  try {
    await next()
  } finally {
    release()
  }
}

// The two organisations seen most recently (distinct), enough to tell whether any organisation other than a
// given one has been active lately.
let latest: { orgId: string; at: number } | null = null
let before: { orgId: string; at: number } | null = null

function noteActivity(orgId: string) {
  const at = clockNow()
  if (latest?.orgId === orgId) latest.at = at
  else {
    before = latest
    latest = { orgId, at }
  }
}

/** How recently another organisation must have been seen for this process's database to count as shared. */
const contendedForMs = 1000

/** Whether another organisation has a request in flight in this process, or has had one in the last second. */
function othersActive(orgId: string): boolean {
  if (inFlight.size > (inFlight.has(orgId) ? 1 : 0)) return true
  const other = latest?.orgId !== orgId ? latest : before
  return other !== null && clockNow() - other.at < contendedForMs
}

interface RowQueryTurns {
  running: number
  waiting: (() => void)[]
  /** When the organisation's next rationed row query may start: its last one's rest period. */
  restUntil: number
}

const rowQueryTurns = new Map<string, RowQueryTurns>()

/**
 * Waits for one of the organisation's `cap` turns at running row queries in this process, first come first
 * served, and returns the function that hands the turn on. A query that ran for d ms, longer than `freeMs`,
 * is followed by a rest of (d − freeMs) × (1/share − 1) ms before the organisation's next one starts, so its
 * long row queries keep at most `share` of a database core busy, while quick ones never wait for a rest.
 * The ration holds only while another organisation is active in this process: alone, an organisation
 * may use everything (bounded by its cap on requests in flight), since nobody is waiting for it. A request
 * waiting here holds its request slot but no connection.
 */
export async function takeRowQueryTurn(orgId: string, cap: number, share = 1, freeMs = 0): Promise<() => void> {
  let turns = rowQueryTurns.get(orgId)
  if (!turns) {
    if (rowQueryTurns.size >= 1000) forgetIdleOrganisations()
    turns = { running: 0, waiting: [], restUntil: 0 }
    rowQueryTurns.set(orgId, turns)
  }
  const state = turns
  if (!othersActive(orgId)) state.running++
  else {
    if (state.running < cap) state.running++
    else await new Promise<void>((resolve) => state.waiting.push(resolve))
    const rest = state.restUntil - clockNow()
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
  }
  const started = clockNow()
  let handedOn = false
  return () => {
    if (handedOn) return
    handedOn = true
    const now = clockNow()
    state.restUntil = Math.max(state.restUntil, now + Math.max(0, now - started - freeMs) * (1 / share - 1))
    state.running--
    // Turns taken while the organisation was alone may leave more running than `cap`: waiters start only
    // as the count falls below it.
    while (state.waiting.length > 0 && state.running < cap) {
      state.running++
      state.waiting.shift()!()
    }
    if (state.running === 0 && state.waiting.length === 0 && state.restUntil <= now && rowQueryTurns.get(orgId) === state) {
      rowQueryTurns.delete(orgId)
    }
  }
}

/** Organisations with nothing running, waiting or resting need no entry: their next query starts afresh. */
function forgetIdleOrganisations() {
  const now = clockNow()
  for (const [orgId, turns] of rowQueryTurns) {
    if (turns.running === 0 && turns.waiting.length === 0 && turns.restUntil <= now) rowQueryTurns.delete(orgId)
  }
}
