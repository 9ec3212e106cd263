import type { Context } from 'hono'
import { onSupabaseEdge, readEnv } from './env.ts'

export interface FailedAuthOptions {
  /** Failed authentications an address may make per window; the next attempt is refused. */
  limit: number
  windowMs: number
  /** Addresses tracked at once; past it the longest-tracked are forgotten first. */
  maxAddresses: number
  now?: () => number
}

/**
 * Counts failed authentications per source address in fixed windows, in this process's memory. Successful
 * requests are never counted. An address that has used up its failures is refused outright until its
 * window ends, correct credentials included: otherwise a guesser would still learn which guess was right.
 */
export class FailedAuthLimiter {
  // Insertion order is window-start order (an entry is re-inserted when its window starts again), so the
  // first entries are always the oldest.
  private readonly windows = new Map<string, { start: number; failures: number }>()
  private readonly now: () => number
  // Windows at their limit, some perhaps ended but not yet forgotten: while there are none, no address is
  // refused, and a request need not be told where it came from.
  private atLimit = 0

  constructor(private readonly options: FailedAuthOptions) {
    this.now = options.now ?? Date.now
  }

  /** Whether any address may be refused now; when not, blockedFor answers 0 for every address. */
  get refusing(): boolean {
    return this.atLimit > 0
  }

  /** Seconds until the address may try again, or 0 when it may try now. */
  blockedFor(address: string): number {
    const w = this.windows.get(address)
    if (!w || w.failures < this.options.limit) return 0
    const left = w.start + this.options.windowMs - this.now()
    if (left <= 0) {
      this.forget(address)
      return 0
    }
    return Math.ceil(left / 1000)
  }

  recordFailure(address: string): void {
    const t = this.now()
    const w = this.windows.get(address)
    if (w && t - w.start < this.options.windowMs) {
      if (++w.failures === this.options.limit) this.atLimit++
      return
    }
    this.forget(address)
    this.forgetOldest(t)
    this.windows.set(address, { start: t, failures: 1 })
    if (this.options.limit <= 1) this.atLimit++
  }

  get trackedAddresses(): number {
    return this.windows.size
  }

  private forgetOldest(t: number) {
    for (const [address, w] of this.windows) {
      if (this.windows.size < this.options.maxAddresses && t - w.start < this.options.windowMs) return
      this.forget(address)
    }
  }

  private forget(address: string) {
    const w = this.windows.get(address)
    if (w && w.failures >= this.options.limit) this.atLimit--
    this.windows.delete(address)
  }
}

let limiter: FailedAuthLimiter | undefined

/** This process's limiter: AUTH_FAILURE_LIMIT failures (default 20) per address per minute. */
export function failedAuthentications(): FailedAuthLimiter {
  limiter ??= new FailedAuthLimiter({ limit: Number(readEnv('AUTH_FAILURE_LIMIT') ?? 20), windowMs: 60_000, maxAddresses: 10_000 })
  return limiter
}

/**
 * Where the request came from: the socket's peer on Node, the connection's remote address on Deno, or,
 * behind proxies we trust, the X-Forwarded-For entry the outermost trusted proxy wrote. Proxies append
 * to the header, so its first entries are whatever the client sent: with N trusted hops the client is the
 * N-th entry from the end. TRUST_PROXY is `true` (one hop) or a number of hops; by default the Supabase
 * Edge Runtime, behind its one gateway, trusts one hop, and anywhere else the header is ignored.
 */
export function sourceAddress(c: Context): string {
  const hops = trustedHops()
  if (hops > 0) {
    const entries =
      c.req
        .header('x-forwarded-for')
        ?.split(',')
        .map((e) => e.trim())
        .filter(Boolean) ?? []
    const client = entries[Math.max(0, entries.length - hops)]
    if (client) return addressKey(client)
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } }; remoteAddr?: { hostname?: string } } | undefined
  return addressKey(env?.incoming?.socket?.remoteAddress ?? env?.remoteAddr?.hostname ?? 'unknown')
}

function trustedHops(): number {
  const configured = readEnv('TRUST_PROXY')
  if (configured !== undefined) return configured === 'true' ? 1 : /^\d+$/.test(configured) ? Number(configured) : 0
  return onSupabaseEdge() ? 1 : 0
}

/**
 * One key per client: an IPv4-mapped IPv6 address counts as its IPv4 address, and an IPv6 address by its
 * /64, the block a single subscriber is usually given whole.
 */
export function addressKey(address: string): string {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a)
  if (mapped) return mapped[1]
  if (!a.includes(':')) return a
  const [head, tail = ''] = a.split('::')
  const left = head ? head.split(':') : []
  const right = a.includes('::') && tail ? tail.split(':') : []
  const groups = a.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
