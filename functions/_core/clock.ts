import { readEnv } from './env.ts'

/**
 * The time as the product reads it: rate-limit windows, key expiry and grace, idempotency expiry. In
 * production it is the system clock. Only a test can move it: in its own process with setClockForTests,
 * or in an API process it starts, through AGENTRY_TEST_CLOCK_OFFSET_MS read once at start. Nothing a
 * request carries reaches it.
 */
let offsetMs = readOffset(readEnv('AGENTRY_TEST_CLOCK_OFFSET_MS'))

function readOffset(value: string | undefined): number {
  const ms = Number(value ?? 0)
  if (!Number.isFinite(ms)) throw new Error('AGENTRY_TEST_CLOCK_OFFSET_MS must be a number of milliseconds.')
  return ms
}

/** For tests only: a time the clock stays at, so that a test can say what happens at an exact millisecond. */
let stoppedAt: number | null = null

/** Milliseconds since the epoch, by the product's clock. */
export function now(): number {
  return stoppedAt ?? Date.now() + offsetMs
}

/**
 * The time to hand to a database function that reads the clock, or null to let Postgres read its own:
 * while the clock is the system's, every process and the database agree on one clock, Postgres's.
 */
export function databaseNow(): Date | null {
  return offsetMs === 0 && stoppedAt === null ? null : new Date(now())
}

/** For tests only: moves this process's clock so that it reads `at` (a time or milliseconds) now. */
export function setClockForTests(at: Date | number): void {
  stoppedAt = null
  offsetMs = (typeof at === 'number' ? at : at.getTime()) - Date.now()
}

/** For tests only: moves this process's clock forward by `ms`. */
export function advanceClockForTests(ms: number): void {
  if (stoppedAt !== null) stoppedAt += ms
  else offsetMs += ms
}

/** For tests only: stops this process's clock at `at` until it is advanced (it stays stopped), set or reset. */
export function stopClockForTests(at: Date | number): void {
  stoppedAt = typeof at === 'number' ? at : at.getTime()
}

/** For tests only: back to the system clock. */
export function resetClockForTests(): void {
  stoppedAt = null
  offsetMs = 0
}

/** This process's distance from the system clock, to start another process at the same time. */
export function clockOffsetForTests(): number {
  return now() - Date.now()
}
