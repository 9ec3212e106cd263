// When a send may be scheduled: from now (a clock a little behind ours is forgiven) to 30 days ahead.
import { now } from '../../_core/clock.ts'
import { ApiError } from '../../_core/errors.ts'

export const maxScheduleDays = 30
/** How far in the past a `send_at` may be and still mean "now": the caller's clock may lag ours. */
const skewMs = 30_000

/** The time a send waits for, or null to send now; throws for a time in the past or too far ahead. */
export function scheduledTime(sendAt: string | undefined | null): Date | null {
  if (sendAt === undefined || sendAt === null) return null
  const at = new Date(sendAt)
  const current = now()
  if (at.getTime() < current - skewMs) {
    throw new ApiError('validation_failed', `send_at: ${sendAt} is in the past; give a time from now on, or leave it out to send now.`)
  }
  if (at.getTime() > current + maxScheduleDays * 86_400_000) {
    throw new ApiError('validation_failed', `send_at: a send may be scheduled at most ${maxScheduleDays} days ahead.`)
  }
  return at.getTime() > current ? at : null
}
