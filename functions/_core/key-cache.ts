import { now } from './clock.ts'
import { readEnv } from './env.ts'

/** What every cached credential is filed under, so that a change to any of them can forget it. */
export interface CredentialTags {
  orgId: string
  plan: string
  keyId: string | null
  userId: string | null
}

export interface CredentialCacheOptions {
  /** Credentials held at once; past it the least recently used go first. */
  maxEntries: number
  /** How long an entry lives while changes are heard (null: until a change or eviction). */
  heardTtlMs: number | null
  /** How long an entry lives while no change can be heard: no listener, or its connection lost. */
  unheardTtlMs: number
  now?: () => number
}

export interface Loaded<V, R> {
  value: V | null
  answer: R
}

interface Entry<V> {
  value: V
  expiresAt: number
}

/**
 * Verified credentials in this process's memory, so that a key used again costs no database round trip.
 * Bounded (least recently used first out) and forgetful: a change to a key, an organisation, a plan or a
 * membership removes every entry that depends on it. A lookup that was in flight while something was
 * forgotten is used for its own request but not kept, since it may have read the state before the change.
 */
export class CredentialCache<V extends CredentialTags> {
  private readonly entries = new Map<string, Entry<V>>()
  private readonly loading = new Map<string, Promise<unknown>>()
  private readonly now: () => number
  /** Bumped by every forget; a lookup started before a bump is neither kept nor shared. */
  private generation = 0
  private heard = false

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? now
  }

  get size(): number {
    return this.entries.size
  }

  /** Whether changes are being heard (a live listener); entries then live for heardTtlMs. */
  get hearing(): boolean {
    return this.heard
  }

  /** Called when the listener starts or stops hearing; either way everything held so far is forgotten. */
  setHearing(heard: boolean): void {
    this.heard = heard
    this.forgetAll()
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (!entry) return undefined
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    // Map order is recency order: re-inserting moves the entry to the back.
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /**
   * Looks a credential up with `load`, one lookup at a time per key (concurrent callers share it), and keeps
   * its `value` unless that is null (unknown, revoked, expired: never kept) or something was forgotten
   * while the lookup ran. `answer` carries whatever else the caller needs, such as why a key was refused.
   */
  load<R>(key: string, load: () => Promise<Loaded<V, R>>): Promise<Loaded<V, R>> {
    const pending = this.loading.get(key) as Promise<Loaded<V, R>> | undefined
    if (pending) return pending
    const started = this.generation
    const loaded: Promise<Loaded<V, R>> = load()
      .then((result) => {
        if (result.value && this.generation === started) this.set(key, result.value)
        return result
      })
      .finally(() => {
        if (this.loading.get(key) === loaded) this.loading.delete(key)
      })
    this.loading.set(key, loaded)
    return loaded
  }

  private set(key: string, value: V) {
    const ttl = this.heard ? this.options.heardTtlMs : this.options.unheardTtlMs
    this.entries.delete(key)
    this.entries.set(key, { value, expiresAt: ttl === null ? Infinity : this.now() + ttl })
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.options.maxEntries) break
      this.entries.delete(oldest)
    }
  }

  forgetKey(keyId: string): void {
    this.forgetWhere((v) => v.keyId === keyId)
  }

  forgetOrganisation(orgId: string): void {
    this.forgetWhere((v) => v.orgId === orgId)
  }

  forgetUser(userId: string): void {
    this.forgetWhere((v) => v.userId === userId)
  }

  forgetPlan(plan: string): void {
    this.forgetWhere((v) => v.plan === plan)
  }

  forgetAll(): void {
    this.forgotten()
    this.entries.clear()
  }

  /**
   * Something changed: lookups in flight may have read the state before it, so they are kept for their own
   * callers only, and a request arriving from now on starts a lookup of its own.
   */
  private forgotten() {
    this.generation++
    this.loading.clear()
  }

  /** Applies one change notice: "key:<id>", "org:<id>", "user:<id>" or "plan:<id>"; anything else forgets all. */
  apply(notice: string): void {
    const colon = notice.indexOf(':')
    const kind = notice.slice(0, colon)
    const id = notice.slice(colon + 1)
    if (colon <= 0 || !id) {
      this.forgetAll()
      return
    }
    switch (kind) {
      case 'key':
        this.forgetKey(id)
        break
      case 'org':
        this.forgetOrganisation(id)
        break
      case 'user':
        this.forgetUser(id)
        break
      case 'plan':
        this.forgetPlan(id)
        break
      default:
        this.forgetAll()
    }
  }

  // Changes are rare and the cache is bounded: a scan costs less than keeping indexes right.
  private forgetWhere(matches: (v: V) => boolean) {
    this.forgotten()
    for (const [key, entry] of this.entries) if (matches(entry.value)) this.entries.delete(key)
  }
}

/**
 * Where no change can be heard, entries live this long: AUTH_CACHE_TTL_MS, else 2 s. It bounds how long a
 * revoked key may still be accepted on the Supabase Edge Runtime, whose isolates cannot hold a LISTEN.
 */
export function unheardTtlMs(): number {
  const configured = readEnv('AUTH_CACHE_TTL_MS')
  return configured === undefined ? 2000 : nonNegative('AUTH_CACHE_TTL_MS', configured)
}

/** While changes are heard entries live until forgotten, unless AUTH_CACHE_TTL_MS bounds them. */
export function heardTtlMs(): number | null {
  const configured = readEnv('AUTH_CACHE_TTL_MS')
  return configured === undefined ? null : nonNegative('AUTH_CACHE_TTL_MS', configured)
}

/** AUTH_CACHE_SIZE credentials (default 10,000), keys and dashboard users together. */
export function cacheSize(): number {
  const configured = readEnv('AUTH_CACHE_SIZE')
  return configured === undefined ? 10_000 : Math.max(0, Math.floor(nonNegative('AUTH_CACHE_SIZE', configured)))
}

function nonNegative(name: string, value: string): number {
  const n = Number(value)
  if (!(n >= 0)) throw new Error(`${name} must be a number of 0 or more`)
  return n
}
