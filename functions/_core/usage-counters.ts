import type { Sql } from './db.ts'
import { unrefTimer } from './timers.ts'

/**
 * Each key's calls and last use, counted in this process's memory and written once a second (one statement
 * for all keys), and once more when the process stops cleanly. A crash loses at most the last second's
 * counts; the rate limit, which is what protects the service, is counted in the database all along.
 */
export class UsageCounters {
  private pending = new Map<string, { calls: number; lastUsed: number }>()
  private timer: ReturnType<typeof setInterval> | undefined
  private flushing: Promise<void> = Promise.resolve()

  constructor(
    private readonly sql: () => Sql,
    private readonly options: { intervalMs?: number; onError?: (error: unknown) => void } = {},
  ) {}

  record(keyId: string, at = Date.now()): void {
    const entry = this.pending.get(keyId)
    if (entry) {
      entry.calls++
      entry.lastUsed = at
    } else {
      this.pending.set(keyId, { calls: 1, lastUsed: at })
    }
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.options.intervalMs ?? 1000)
      unrefTimer(this.timer)
    }
  }

  /** Calls counted and not yet written, for a key or all keys. */
  unwritten(keyId?: string): number {
    if (keyId !== undefined) return this.pending.get(keyId)?.calls ?? 0
    let calls = 0
    for (const entry of this.pending.values()) calls += entry.calls
    return calls
  }

  /** Writes what has been counted. Flushes run one after another; a failed one is merged back for the next. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write())
    return this.flushing
  }

  /** The last flush, and no timer left behind: for a clean stop. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return
    const batch = this.pending
    this.pending = new Map()
    const ids: string[] = []
    const calls: number[] = []
    const lastUsed: string[] = []
    for (const [id, entry] of batch) {
      ids.push(id)
      calls.push(entry.calls)
      lastUsed.push(new Date(entry.lastUsed).toISOString())
    }
    const sql = this.sql()
    try {
      await sql`select agentry.record_key_usage(${ids}::uuid[], ${calls}::bigint[], ${lastUsed}::timestamptz[])`
    } catch (error) {
      for (const [id, entry] of batch) {
        const now = this.pending.get(id)
        if (now) {
          now.calls += entry.calls
          now.lastUsed = Math.max(now.lastUsed, entry.lastUsed)
        } else {
          this.pending.set(id, entry)
        }
      }
      this.options.onError?.(error)
    }
  }
}
