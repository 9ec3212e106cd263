import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { UsageCounters } from '../../functions/_core/usage-counters.ts'
import { freePort } from '../../scripts/lib/embedded-postgres.ts'
import { callApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

const counters: UsageCounters[] = []
afterEach(async () => {
  await Promise.all(counters.splice(0).map((c) => c.stop()))
})

async function usage(keyId: string) {
  const [row] = await serviceSql()<{ calls: number; last_used_at: Date | null }[]>`
    select call_count::int as calls, last_used_at from agentry.api_keys where id = ${keyId}`
  return row
}

describe('usage counters', () => {
  it('are written for all keys in one flush, adding to what the database holds', async () => {
    const t = await createTenant()
    const [one, two] = [await t.keyWithId(), await t.keyWithId()]
    await serviceSql()`update agentry.api_keys set call_count = 10 where id = ${one.id}`
    const c = new UsageCounters(() => serviceSql(), { intervalMs: 60_000 })
    counters.push(c)
    const lastUse = Date.now() - 5000
    for (let i = 0; i < 3; i++) c.record(one.id, lastUse - 1000 + i)
    c.record(two.id, lastUse)
    expect(await usage(one.id)).toMatchObject({ calls: 10, last_used_at: null })
    expect(c.unwritten()).toBe(4)
    await c.flush()
    expect(c.unwritten()).toBe(0)
    expect(await usage(one.id)).toEqual({ calls: 13, last_used_at: new Date(lastUse - 1000 + 2) })
    expect(await usage(two.id)).toEqual({ calls: 1, last_used_at: new Date(lastUse) })
  })

  it('are written within a second without being asked (the real-time smoke test of the periodic flush)', async () => {
    const t = await createTenant()
    const { id } = await t.keyWithId()
    const c = new UsageCounters(() => serviceSql())
    counters.push(c)
    const recordedAt = Date.now()
    c.record(id)
    c.record(id)
    // Asked every 50 ms, not after a fixed wait: the test ends as soon as the timer's flush has landed.
    while ((await usage(id)).calls !== 2) {
      expect(Date.now() - recordedAt, 'the counts were not written without being asked').toBeLessThan(1500)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(c.unwritten()).toBe(0)
  })

  it('keep the counts of a failed flush for the next one', async () => {
    const t = await createTenant()
    const { id } = await t.keyWithId()
    const closed = postgres(inject('databaseUrl'), { max: 1 })
    await closed.end()
    let pool: postgres.Sql = closed
    const errors: unknown[] = []
    const c = new UsageCounters(() => pool, { intervalMs: 60_000, onError: (e) => errors.push(e) })
    counters.push(c)
    c.record(id)
    await c.flush()
    expect(errors).toHaveLength(1)
    c.record(id)
    expect(c.unwritten(id)).toBe(2)
    pool = serviceSql()
    await c.flush()
    expect((await usage(id)).calls).toBe(2)
  })

  it('are written, and leased tokens given back, when the server is stopped with SIGTERM', async () => {
    const t = await createTenant({ rateLimitPerMinute: 1000 })
    const { key, id } = await t.keyWithId()
    const server = await startBenchServer()
    // Eight calls in well under a second: no periodic flush has run when the signal arrives.
    for (let i = 0; i < 8; i++) expect((await callApi(server.base, 'GET', '/me', { key })).status).toBe(200)
    await server.stop('SIGTERM')
    expect((await usage(id)).calls).toBe(8)
    const [bucket] = await serviceSql()`select current_count + previous_count as used from agentry.rate_limits where org_id = ${t.org.id}`
    expect(bucket.used).toBe(8)
  })
})

/** The bench's server (scripts/lib/bench-server.ts), which stops as `npm start` and the worker do. */
async function startBenchServer() {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/lib/bench-server.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)))
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  return {
    base: `http://127.0.0.1:${port}/functions/v1/api/v1`,
    stop: async (signal: NodeJS.Signals) => {
      child.kill(signal)
      expect(await exited).toBe(0)
    },
  }
}
