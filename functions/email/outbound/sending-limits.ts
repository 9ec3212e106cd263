// Per-plan sending limits (agentry.plans.max_emails_per_hour / max_emails_per_day), one send counting one
// email however many recipients it has. Every send answer reports both windows:
//   X-Email-Limit-Hour, X-Email-Limit-Hour-Remaining, X-Email-Limit-Hour-Reset (Unix seconds),
//   X-Email-Limit-Day, X-Email-Limit-Day-Remaining, X-Email-Limit-Day-Reset
// beside the request rate limit's X-RateLimit-*. Past either limit the send is refused with 429 and
// Retry-After, the seconds until the spent window ends; nothing is queued or counted.
import { now } from '../../_core/clock.ts'
import { ApiError } from '../../_core/errors.ts'
import type { SendAllowance } from './send-queries.ts'

const unixSeconds = (d: Date) => Math.ceil(new Date(d).getTime() / 1000)

export function sendingLimitHeaders(a: SendAllowance): Record<string, string> {
  return {
    'X-Email-Limit-Hour': String(a.hour_limit),
    'X-Email-Limit-Hour-Remaining': String(a.hour_remaining),
    'X-Email-Limit-Hour-Reset': String(unixSeconds(a.hour_reset)),
    'X-Email-Limit-Day': String(a.day_limit),
    'X-Email-Limit-Day-Remaining': String(a.day_remaining),
    'X-Email-Limit-Day-Reset': String(unixSeconds(a.day_reset)),
  }
}

/** The 429 for a send past its plan's limit. */
export function sendingLimitReached(a: SendAllowance): ApiError {
  const dayFull = a.day_remaining <= 0
  const resetsAt = new Date(dayFull ? a.day_reset : a.hour_reset).getTime()
  const retryAfter = Math.max(1, Math.ceil((resetsAt - now()) / 1000))
  const limit = dayFull ? `${a.day_limit} emails a day` : `${a.hour_limit} emails an hour`
  return new ApiError('rate_limited', `The plan's sending limit of ${limit} is reached; retry after ${retryAfter} s.`, undefined, {
    ...sendingLimitHeaders(a),
    'Retry-After': String(retryAfter),
  })
}
