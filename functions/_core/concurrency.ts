import type { MiddlewareHandler } from 'hono'
import { ApiError } from './errors.ts'
import type { ApiEnv } from './app.ts'

/**
 * Requests each organisation has in flight in this process. The connection pool is per process, so the
 * count that protects it is too: an organisation at its cap holds at most that many of the pool's
 * connections, and the rest stay free for everyone else.
 */
const inFlight = new Map<string, number>()

/** Takes one of the organisation's slots, or returns null when all `cap` of them are in use. */
export function enterOrganisation(orgId: string, cap: number): (() => void) | null {
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
