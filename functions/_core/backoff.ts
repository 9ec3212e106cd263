// When failed background work is tried again: a growing delay, spread so that retries of many failures
// that happened together do not all come back at the same moment.

/** Seconds to wait after a job's 1st, 2nd, … failed attempt: 5 s, 30 s, 2 min, 10 min, 30 min, then hourly. */
export const jobRetryDelaysSeconds = [5, 30, 120, 600, 1800, 3600] as const

/**
 * The time to try again after `failedAttempts` attempts have failed, from `now` (milliseconds): the delay
 * for that attempt (the last one listed once past the end) spread ±20 %.
 */
export function retryAt(
  failedAttempts: number,
  now: number,
  delaysSeconds: readonly number[] = jobRetryDelaysSeconds,
  random: () => number = Math.random,
): Date {
  const base = delaysSeconds[Math.min(Math.max(failedAttempts, 1), delaysSeconds.length) - 1]
  return new Date(now + Math.round(base * (0.8 + 0.4 * random()) * 1000))
}
