// When a failed delivery is tried again: exponential backoff with jitter over about a day, then it is dead.

/** Seconds to wait after the 1st, 2nd, … failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h. */
export const retryDelaysSeconds = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800]

/** Attempts a delivery gets before it is dead: the first, and one after each delay. */
export const maxAttempts = retryDelaysSeconds.length + 1

/** The most a receiver's Retry-After may push a retry back. */
const maxRetryAfterSeconds = 24 * 3600

/**
 * The time of the next attempt after `attempts` have failed, or null when there is none left (the delivery
 * is dead). Each delay is spread ±20 % so that a receiver coming back is not hit by every retry at once; a
 * Retry-After from the receiver is honoured when it asks for longer.
 */
export function nextAttemptAt(attempts: number, now: Date, retryAfterSeconds: number | null = null, random = Math.random): Date | null {
  const base = retryDelaysSeconds[attempts - 1]
  if (base === undefined) return null
  const jittered = base * (0.8 + 0.4 * random())
  const wait = Math.max(jittered, Math.min(retryAfterSeconds ?? 0, maxRetryAfterSeconds))
  return new Date(now.getTime() + Math.round(wait * 1000))
}

/** Retry-After as seconds: a number of seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: Date): number | null {
  if (!header) return null
  if (/^\d+$/.test(header.trim())) return Number(header.trim())
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now.getTime()) / 1000))
}
