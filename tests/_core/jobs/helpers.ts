import postgres from 'postgres'
import type { Sql } from '../../../functions/_core/db.ts'
import { serviceSql } from '../../harness/tenants.ts'

/** A job kind no other test file's runner knows, so that only this file's runners claim its jobs. */
export const kindOfThisTest = () => `test.k${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`

/** A service pool of its own, as a runner in another process would have. */
export function runnerPool(): Sql {
  return postgres(process.env.DATABASE_URL as string, { max: 4, onnotice: () => {}, connection: { TimeZone: 'UTC' } })
}

export interface StoredJob {
  status: string
  attempt: number
  max_attempts: number
  progress: { done: number; total: number } | null
  last_error: string | null
  payload: Record<string, unknown>
  run_at: Date
}

export async function storedJob(id: string): Promise<StoredJob> {
  const [row] = await serviceSql()<StoredJob[]>`
    select status, attempt, max_attempts, progress, last_error, payload, run_at from agentry.jobs where id = ${id}`
  return row
}

/** Waits, a bounded while, until `check` holds. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > until) throw new Error(`Timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
