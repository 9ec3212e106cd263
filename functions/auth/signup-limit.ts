import { readEnv } from '../_core/env.ts'
import { FailedAuthLimiter } from '../_core/failed-auth.ts'

let limiter: FailedAuthLimiter | undefined

/**
 * Registrations per source address in this process: AGENT_REGISTRATION_LIMIT (default 10) an hour. The
 * fixed-window counter that refuses failed authentications serves as is: every registration is counted.
 */
export function registrationAttempts(): FailedAuthLimiter {
  limiter ??= new FailedAuthLimiter({
    limit: Number(readEnv('AGENT_REGISTRATION_LIMIT') ?? 10),
    windowMs: 60 * 60_000,
    maxAddresses: 10_000,
  })
  return limiter
}
