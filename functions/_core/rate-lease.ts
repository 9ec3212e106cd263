import { databaseNow, now as clockNow } from './clock.ts'
import type { Sql } from './db.ts'
import { unrefTimer } from './timers.ts'

/** One request's place in its organisation's rate limit, as the X-RateLimit-* headers report it. */
export interface RateDecision {
  allowed: boolean
  limit: number
  remaining: number
  /** Unix seconds at which the current window ends. */
  reset: number
  /** Whole seconds until a token is free; 0 when allowed. Never shorter than the real wait. */
  retryAfter: number
}

export interface RateLeaseOptions {
  /** How long a batch may be spent before its unspent tokens go back (default 1000 ms). */
  leaseMs?: number
  /** The most tokens one batch asks for (default 10,000). */
  maxBatch?: number
  /** After a refusal, further requests are refused here for at most this long before asking again (default 250 ms). */
  refusalMs?: number
  now?: () => number
  onError?: (error: unknown) => void
}

interface Lease {
  limit: number
  size: number
  tokens: number
  window: string
  /** The bucket's remaining count just after this batch was taken. */
  remainingAfter: number
  reset: number
  endsAt: number
}

interface Waiter {
  resolve(decision: RateDecision): void
  reject(error: unknown): void
}

interface OrgState {
  limit: number
  lease: Lease | null
  waiters: Waiter[]
  taking: boolean
  /** How many tokens the next batch asks for, learnt from how fast the last one was spent. */
  wanted: number
  refusedUntil: number
  /** When the database said a token would be free again. */
  freeAt: number
  refusedReset: number
}

interface Unspent {
  orgId: string
  window: string
  tokens: number
}

type LeaseRow = { granted: number; remaining: number; window_start: Date; reset_at: Date; window_ends_in_ms: number; retry_after: number }

/**
 * The organisation rate limit, spent locally from batches of tokens leased from the organisation's bucket
 * in Postgres (agentry.lease_rate_tokens): one statement hands out a batch, the process spends it without
 * asking again, and whatever is left when the lease ends (after leaseMs, at the window's end, or at
 * shutdown) goes back. Leased tokens count as used in the bucket, so no number of processes can admit more
 * than the limit; the database keeps batches small when the limit is small or nearly used, so a process
 * cannot sit on what another needs. Requests that arrive while a batch is being fetched wait for it rather
 * than fetching their own.
 */
export class RateLeases {
  private readonly orgs = new Map<string, OrgState>()
  private unspent: Unspent[] = []
  private readonly now: () => number
  private readonly leaseMs: number
  private readonly maxBatch: number
  private readonly refusalMs: number
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly sql: () => Sql,
    private readonly options: RateLeaseOptions = {},
  ) {
    this.now = options.now ?? clockNow
    this.leaseMs = options.leaseMs ?? 1000
    this.maxBatch = options.maxBatch ?? 10_000
    this.refusalMs = options.refusalMs ?? 250
  }

  /** Takes one token for a request of `orgId`, whose limit is `limit` requests per minute. */
  take(orgId: string, limit: number): RateDecision | Promise<RateDecision> {
    const now = this.now()
    let s = this.orgs.get(orgId)
    if (!s) {
      s = { limit, lease: null, waiters: [], taking: false, wanted: 1, refusedUntil: 0, freeAt: 0, refusedReset: 0 }
      this.orgs.set(orgId, s)
      this.startSweeping()
    }
    if (s.limit !== limit) {
      // The plan or the organisation's limit changed: what was leased under the old one goes back.
      s.limit = limit
      s.refusedUntil = 0
      if (s.lease) this.endLease(orgId, s)
    }
    const lease = s.lease
    if (lease && lease.endsAt <= now) {
      s.wanted = Math.max(1, lease.size - lease.tokens)
      this.endLease(orgId, s)
    } else if (lease && lease.tokens > 0) {
      lease.tokens--
      return { allowed: true, limit, remaining: lease.remainingAfter + lease.tokens, reset: lease.reset, retryAfter: 0 }
    } else if (lease) {
      // Spent before its time was up: ask for twice as many next time.
      s.wanted = Math.min(this.maxBatch, lease.size * 2)
      s.lease = null
    }
    if (s.refusedUntil > now && s.waiters.length === 0) {
      return { allowed: false, limit, remaining: 0, reset: s.refusedReset, retryAfter: Math.max(1, Math.ceil((s.freeAt - now) / 1000)) }
    }
    return new Promise<RateDecision>((resolve, reject) => {
      s.waiters.push({ resolve, reject })
      if (!s.taking) void this.fetch(orgId, s)
    })
  }

  /** Fetches batches until every waiting request has a token or the bucket has none left. */
  private async fetch(orgId: string, s: OrgState): Promise<void> {
    s.taking = true
    try {
      while (s.waiters.length > 0) {
        const limit = s.limit
        const back = this.unspentOf(orgId)
        const wanted = Math.min(this.maxBatch, Math.max(s.waiters.length, s.wanted))
        // The window's end is reckoned from when the lease was asked for: counted from the answer's arrival, a
        // lease outlived its window by the round trip, and spent the old window's tokens in the new one.
        const asked = this.now()
        const [row] = await this.sql()<LeaseRow[]>`
          select * from agentry.lease_rate_tokens(${orgId}, ${limit}, ${wanted}, ${back?.tokens ?? 0}, ${back?.window ?? null}, ${databaseNow()})`
        const now = this.now()
        const reset = Math.floor(row.reset_at.getTime() / 1000)
        if (row.granted > 0) {
          const lease: Lease = {
            limit,
            size: row.granted,
            tokens: row.granted,
            window: row.window_start.toISOString(),
            remainingAfter: row.remaining,
            reset,
            endsAt: asked + Math.min(this.leaseMs, row.window_ends_in_ms),
          }
          s.lease = lease
          s.refusedUntil = 0
          while (lease.tokens > 0 && s.waiters.length > 0) {
            lease.tokens--
            s.waiters.shift()!.resolve({ allowed: true, limit, remaining: lease.remainingAfter + lease.tokens, reset, retryAfter: 0 })
          }
          if (lease.tokens === 0 && s.waiters.length > 0) s.wanted = Math.min(this.maxBatch, Math.max(s.wanted, lease.size * 2))
        } else {
          s.lease = null
          s.wanted = 1
          s.freeAt = now + row.retry_after * 1000
          s.refusedUntil = now + Math.min(this.refusalMs, row.retry_after * 1000)
          s.refusedReset = reset
          const refused: RateDecision = { allowed: false, limit, remaining: 0, reset, retryAfter: row.retry_after }
          for (const waiter of s.waiters.splice(0)) waiter.resolve(refused)
        }
      }
    } catch (error) {
      for (const waiter of s.waiters.splice(0)) waiter.reject(error)
    } finally {
      s.taking = false
    }
  }

  private endLease(orgId: string, s: OrgState) {
    const lease = s.lease!
    s.lease = null
    if (lease.tokens > 0) this.unspent.push({ orgId, window: lease.window, tokens: lease.tokens })
  }

  /** The organisation's unspent tokens waiting to go back, to return with its next batch. */
  private unspentOf(orgId: string): Unspent | undefined {
    const i = this.unspent.findIndex((u) => u.orgId === orgId)
    return i < 0 ? undefined : this.unspent.splice(i, 1)[0]
  }

  /** Tokens leased and not yet spent or returned: in live leases and waiting to go back. */
  held(orgId?: string): number {
    let tokens = 0
    for (const [id, s] of this.orgs) if ((orgId === undefined || id === orgId) && s.lease) tokens += s.lease.tokens
    for (const u of this.unspent) if (orgId === undefined || u.orgId === orgId) tokens += u.tokens
    return tokens
  }

  /**
   * Gives back what ended leases left unspent, in one statement for all organisations, and forgets
   * organisations with nothing in hand. With `all`, live leases end too: for a clean stop.
   */
  async returnUnspent(all = false): Promise<void> {
    const now = this.now()
    for (const [orgId, s] of this.orgs) {
      if (s.taking) continue
      if (s.lease && (all || s.lease.endsAt <= now)) {
        s.wanted = Math.max(1, s.lease.size - s.lease.tokens)
        this.endLease(orgId, s)
      }
      if (!s.lease && s.waiters.length === 0 && s.refusedUntil <= now) this.orgs.delete(orgId)
    }
    const batch = this.unspent
    this.unspent = []
    if (batch.length === 0) return
    try {
      await this.sql()`
        select agentry.return_rate_tokens(${batch.map((u) => u.orgId)}::uuid[], ${batch.map((u) => u.window)}::timestamptz[],
          ${batch.map((u) => u.tokens)}::integer[])`
    } catch (error) {
      // Tokens not given back only make the bucket stricter until their window slides out.
      this.options.onError?.(error)
    }
  }

  /** Ends every lease and gives its tokens back; no timer is left behind. */
  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = undefined
    await this.returnUnspent(true)
  }

  private startSweeping() {
    if (this.sweeper) return
    this.sweeper = setInterval(() => void this.returnUnspent(), this.leaseMs)
    unrefTimer(this.sweeper)
  }
}
