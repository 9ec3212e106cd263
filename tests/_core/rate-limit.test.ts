import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { clockOffsetForTests, now, setClockForTests } from '../../functions/_core/clock.ts'
import { callApi } from '../harness/api.ts'
import { givePlan } from '../harness/plans.ts'
import { startApiProcess, type ApiProcess } from '../harness/processes.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// The limiter slides over minute windows. Both API processes and this one share a clock set 20 s into a
// minute an hour ahead, so no window turns while the file runs (under 40 s) and every count is exact.
// tests/_core/rate-lease.test.ts keeps the limiter on the real clock.
const startsAt = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000 + 20_000
const secondsIntoMinute = () => (now() % 60_000) / 1000

let servers: ApiProcess[]
beforeAll(async () => {
  setClockForTests(startsAt)
  const clock = { AGENTRY_TEST_CLOCK_OFFSET_MS: String(clockOffsetForTests()) }
  servers = await Promise.all([startApiProcess(clock), startApiProcess(clock)])
})
afterAll(() => Promise.all(servers.map((s) => s.stop())))

describe('the organisation rate limit', () => {
  it('never admits more than the limit across two API processes sharing one bucket, nor much less, then answers 429', async () => {
    const t = await createTenant({ rateLimitPerMinute: 30 })
    await givePlan(t, { maxConcurrentRequests: 100 })
    const keys = [await t.key(), await t.key({ agent: 'agent' })]
    const responses = await Promise.all(
      Array.from({ length: 45 }, (_, i) => callApi(servers[i % 2].base, 'GET', '/me', { key: keys[i % 2] })),
    )
    const ok = responses.filter((r) => r.status === 200)
    const limited = responses.filter((r) => r.status === 429)
    // Each process spends tokens leased from the bucket: a token one of them leased and did not need may be
    // given back too late for the other.
    expect(ok.length).toBeLessThanOrEqual(30)
    expect(ok.length).toBeGreaterThanOrEqual(28)
    expect(ok.length + limited.length).toBe(45)
    for (const r of limited) {
      expect(r.body.error.code).toBe('rate_limited')
      expect(r.body.error.message).toMatch(/Rate limit of 30 requests per minute exceeded/)
      const retryAfter = Number(r.headers.get('retry-after'))
      expect(Number.isInteger(retryAfter)).toBe(true)
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(62)
      expect(r.headers.get('x-ratelimit-limit')).toBe('30')
      expect(r.headers.get('x-ratelimit-remaining')).toBe('0')
    }
    // Each batch is a run of the bucket's count, so every admitted request reports a remaining count of its own.
    const remaining = ok.map((r) => Number(r.headers.get('x-ratelimit-remaining')))
    expect(new Set(remaining).size).toBe(ok.length)
    for (const n of remaining) expect(n).toBeGreaterThanOrEqual(0)
    for (const n of remaining) expect(n).toBeLessThanOrEqual(29)
    // The processes read the clock the test set: the window ends at the end of its minute.
    for (const r of ok) expect(Number(r.headers.get('x-ratelimit-reset'))).toBe((startsAt - 20_000 + 60_000) / 1000)
    const [bucket] = await serviceSql()`select current_count from agentry.rate_limits where org_id = ${t.org.id}`
    expect(bucket.current_count).toBeLessThanOrEqual(30)
  })

  it('does not count requests with unknown or revoked keys, and refused requests do not bump usage', async () => {
    const t = await createTenant({ rateLimitPerMinute: 5 })
    const { key, id } = await t.keyWithId()
    const revoked = await t.keyWithId({ revoked: true })
    for (let i = 0; i < 10; i++) expect((await callApi(servers[0].base, 'GET', '/me', { key: revoked.key })).status).toBe(401)
    const statuses = []
    for (let i = 0; i < 7; i++) statuses.push((await callApi(servers[1].base, 'GET', '/me', { key })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429])
    // Each process writes all the usage it has counted in one statement. Once a call made after all of the
    // above is written by both processes, so is anything they counted before it.
    const witness = await (await createTenant()).keyWithId()
    for (const server of servers) expect((await callApi(server.base, 'GET', '/me', { key: witness.key })).status).toBe(200)
    const calls = async (keyId: string) =>
      (await serviceSql()`select call_count::int as calls from agentry.api_keys where id = ${keyId}`)[0].calls
    await vi.waitFor(async () => expect(await calls(witness.id)).toBe(2), { timeout: 5000, interval: 50 })
    expect(await calls(id)).toBe(5)
    expect(await calls(revoked.id)).toBe(0)
  })

  it("keeps one organisation's exhaustion from touching another's bucket", async () => {
    const a = await createTenant({ rateLimitPerMinute: 2 })
    const b = await createTenant({ rateLimitPerMinute: 2 })
    const keyA = await a.key()
    for (let i = 0; i < 3; i++) await callApi(servers[0].base, 'GET', '/me', { key: keyA })
    expect((await callApi(servers[0].base, 'GET', '/me', { key: keyA })).status).toBe(429)
    const other = await callApi(servers[0].base, 'GET', '/me', { key: await b.key() })
    expect(other.status).toBe(200)
    expect(other.headers.get('x-ratelimit-remaining')).toBe('1')
  })

  it('weighs the previous minute into the window, so a full minute just past still throttles', async () => {
    const t = await createTenant({ rateLimitPerMinute: 10 })
    const key = await t.key()
    // The previous window was full: e seconds into this one, (60 - e) / 60 of it still counts.
    await serviceSql()`
      update agentry.rate_limits
      set window_start = ${new Date(now() - (now() % 60_000))}, previous_count = 10, current_count = 0
      where org_id = ${t.org.id}`
    const remainingAt = (e: number) => Math.floor(10 - (10 * (60 - e)) / 60 - 1)
    const before = secondsIntoMinute()
    const res = await callApi(servers[0].base, 'GET', '/me', { key })
    const after = secondsIntoMinute()
    expect(after).toBeGreaterThanOrEqual(before)
    expect(res.status).toBe(200)
    expect(remainingAt(before)).toBeGreaterThanOrEqual(2)
    const remaining = Number(res.headers.get('x-ratelimit-remaining'))
    expect(remaining).toBeGreaterThanOrEqual(remainingAt(before))
    expect(remaining).toBeLessThanOrEqual(remainingAt(after))
  })
})
