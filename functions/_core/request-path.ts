// What a request's authentication keeps in this process: verified credentials (key-cache.ts), leased
// rate-limit tokens (rate-lease.ts) and unwritten usage counts (usage-counters.ts); the cache hears what to
// forget on the process's one listening connection (notices.ts). Created on first use; settled (counts
// written, tokens given back, the cache no longer hearing) before the database pools close.
import { authDatabase, beforeDatabaseCloses, type Sql } from './db.ts'
import { cacheSize, CredentialCache, heardTtlMs, unheardTtlMs, type CredentialTags } from './key-cache.ts'
import type { TenantClaims } from './db.ts'
import type { KeyMode } from './keys.ts'
import { hearNotices } from './notices.ts'
import { RateLeases } from './rate-lease.ts'
import { UsageCounters } from './usage-counters.ts'

/** A verified credential as cached: everything a principal holds but its rate-limit state. */
export interface Credential extends CredentialTags {
  kind: 'org_key' | 'agent_key' | 'agent_signature' | 'user'
  orgName: string
  agentId: string | null
  role: string | null
  mode: KeyMode | null
  scopes: string[]
  /** Milliseconds since the epoch; checked on every request, cached or not. */
  expiresAt: number | null
  rateLimit: number
  maxConcurrentRequests: number
  /** The route scopes the credential's scopes allow, as agentry.scope_allows judged them. */
  allowedScopes: ReadonlySet<string>
  claims: TenantClaims
  /** A self-registered agent's Ed25519 public key, which its signed requests are checked against. */
  publicKey?: Uint8Array
}

/**
 * The channel the database announces credential changes on (see sql/…_request_path.sql), one notice per
 * change: "key:<id>", "org:<id>", "user:<id>" or "plan:<id>".
 */
export const authChannel = 'agentry_auth'

const report = (what: string) => (error: unknown) => console.error(`${what}:`, error instanceof Error ? error.message : error)

// The request path's statements are short and must not queue behind tenants' work: the auth pool.
const pool: () => Sql = authDatabase
let statements = 0
let cache: CredentialCache<Credential> | undefined
let stopHearing: (() => void) | undefined
let leases: RateLeases | undefined
let counters: UsageCounters | undefined

/** The pool for one of the request path's own statements, counted (see requestPathStatements). */
export function requestPathSql(): Sql {
  statements++
  return pool()
}

/**
 * Statements this process's request path has sent since it started: credential lookups, token leases and
 * returns, usage flushes. `npm run bench` divides it by the requests served.
 */
export function requestPathStatements(): number {
  return statements
}

export function credentials(): CredentialCache<Credential> {
  if (cache) return cache
  beforeDatabaseCloses(settleRequestPath)
  cache = new CredentialCache<Credential>({ maxEntries: cacheSize(), heardTtlMs: heardTtlMs(), unheardTtlMs: unheardTtlMs() })
  const c = cache
  // Where the process cannot listen the cache never hears, and keeps each entry only briefly (unheardTtlMs).
  stopHearing = hearNotices(authChannel, { onNotice: (notice) => c.apply(notice), onHearing: (hearing) => c.setHearing(hearing) })
  return cache
}

export function rateLeases(): RateLeases {
  if (leases) return leases
  beforeDatabaseCloses(settleRequestPath)
  leases = new RateLeases(requestPathSql, { onError: report('rate limit: cannot give back unspent tokens') })
  return leases
}

export function usageCounters(): UsageCounters {
  if (counters) return counters
  beforeDatabaseCloses(settleRequestPath)
  counters = new UsageCounters(requestPathSql, { onError: report('usage counters: flush failed') })
  // The Supabase Edge Runtime announces an isolate's end with beforeunload: write what it counted.
  const deno = (globalThis as { Deno?: unknown }).Deno
  const events = globalThis as { addEventListener?: (type: string, listener: () => void) => void }
  if (deno && typeof events.addEventListener === 'function') {
    events.addEventListener('beforeunload', () => {
      void counters?.flush()
      void leases?.returnUnspent(true)
    })
  }
  return counters
}

/**
 * Forgets a key at once, for the request that changed it: its own process must not accept it on the very
 * next request, before the database's notice has come round. Call after the change has committed.
 */
export function forgetKey(keyId: string): void {
  cache?.forgetKey(keyId)
}

export function forgetOrganisation(orgId: string): void {
  cache?.forgetOrganisation(orgId)
}

/** Writes what has been counted, gives unspent tokens back and stops hearing changes: before the pools close. */
export async function settleRequestPath(): Promise<void> {
  const steps = [counters?.stop(), leases?.stop()]
  stopHearing?.()
  cache?.forgetAll()
  cache = undefined
  stopHearing = undefined
  leases = undefined
  counters = undefined
  await Promise.all(steps)
}
