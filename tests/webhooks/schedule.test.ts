import { describe, expect, it } from 'vitest'
import { maxAttempts, nextAttemptAt, retryAfterSeconds, retryDelaysSeconds } from '../../functions/webhooks/schedule.ts'

const now = new Date('2026-11-30T12:00:00.000Z')
const secondsAfterNow = (at: Date | null) => (at === null ? null : (at.getTime() - now.getTime()) / 1000)
const middle = () => 0.5
const lowest = () => 0
const highest = () => 1

describe('when a failed delivery is tried again', () => {
  it('waits each step of the backoff in turn, then gives up after the last attempt', () => {
    expect(retryDelaysSeconds).toEqual([5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800])
    expect(maxAttempts).toBe(11)
    const waits = retryDelaysSeconds.map((_, i) => secondsAfterNow(nextAttemptAt(i + 1, now, null, middle)))
    expect(waits).toEqual(retryDelaysSeconds)
    expect(nextAttemptAt(maxAttempts, now, null, middle)).toBeNull()
    expect(nextAttemptAt(maxAttempts + 5, now, 60, middle)).toBeNull()
  })

  it('spreads each wait by at most 20 % either way', () => {
    expect(secondsAfterNow(nextAttemptAt(1, now, null, lowest))).toBe(4)
    expect(secondsAfterNow(nextAttemptAt(1, now, null, highest))).toBe(6)
    expect(secondsAfterNow(nextAttemptAt(9, now, null, lowest))).toBe(23040)
    expect(secondsAfterNow(nextAttemptAt(9, now, null, highest))).toBe(34560)
  })

  it("waits as long as the receiver's Retry-After asks when that is longer than the backoff, never shorter", () => {
    expect(secondsAfterNow(nextAttemptAt(1, now, 90, middle))).toBe(90)
    expect(secondsAfterNow(nextAttemptAt(3, now, 10, middle))).toBe(120)
    expect(secondsAfterNow(nextAttemptAt(2, now, 0, middle))).toBe(30)
  })

  it('caps a Retry-After at a day', () => {
    const day = 24 * 3600
    expect(secondsAfterNow(nextAttemptAt(1, now, day, middle))).toBe(day)
    expect(secondsAfterNow(nextAttemptAt(1, now, day + 1, middle))).toBe(day)
    expect(secondsAfterNow(nextAttemptAt(1, now, 10 * 365 * day, middle))).toBe(day)
  })
})

describe("reading a receiver's Retry-After", () => {
  it('reads a number of seconds', () => {
    expect(retryAfterSeconds('120', now)).toBe(120)
    expect(retryAfterSeconds(' 7 ', now)).toBe(7)
    expect(retryAfterSeconds('0', now)).toBe(0)
  })

  it('reads an HTTP date as the seconds from now until then, rounding up', () => {
    expect(retryAfterSeconds('Mon, 30 Nov 2026 12:02:00 GMT', now)).toBe(120)
    expect(retryAfterSeconds('Mon, 30 Nov 2026 12:00:00 GMT', now)).toBe(0)
    expect(retryAfterSeconds('Mon, 30 Nov 2026 13:00:00 GMT', new Date('2026-11-30T12:59:59.500Z'))).toBe(1)
  })

  it('reads an HTTP date already past as no wait at all', () => {
    expect(retryAfterSeconds('Sun, 29 Nov 2026 12:00:00 GMT', now)).toBe(0)
  })

  it('ignores a Retry-After that is absent or unreadable', () => {
    expect(retryAfterSeconds(null, now)).toBeNull()
    expect(retryAfterSeconds('', now)).toBeNull()
    expect(retryAfterSeconds('soon', now)).toBeNull()
    expect(retryAfterSeconds('Mon, 99 Nov 2026 99:00:00 GMT', now)).toBeNull()
  })

  it('feeds the schedule: a date two hours away pushes the first retry back two hours', () => {
    const wait = retryAfterSeconds('Mon, 30 Nov 2026 14:00:00 GMT', now)
    expect(secondsAfterNow(nextAttemptAt(1, now, wait, middle))).toBe(7200)
  })
})
