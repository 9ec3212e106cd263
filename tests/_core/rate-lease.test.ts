import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, now, resetClockForTests, setClockForTests } from '../../functions/_core/clock.ts'
import { RateLeases, type RateDecision } from '../../functions/_core/rate-lease.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// Each RateLeases stands for one API process: they share nothing but the organisation's bucket in Postgres.
const holders: RateLeases[] = []
function holder(options: ConstructorParameters<typeof RateLeases>[1] = {}) {
  const h = new RateLeases(() => serviceSql(), options)
  holders.push(h)
  return h
}

// Each test starts 10 s into a minute an hour ahead, on a clock the holders and the bucket share: no window
// turns while it runs, and every count is exact. Each test has its own organisation, so its own bucket.
const minute = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000
beforeEach(() => setClockForTests(minute + 10_000))
afterEach(async () => {
  await Promise.all(holders.splice(0).map((h) => h.stop()))
  resetClockForTests()
})

async function bucket(orgId: string) {
  const [row] = await serviceSql()<{ current_count: number; previous_count: number }[]>`
    select current_count, previous_count from agentry.rate_limits where org_id = ${orgId}`
  return row
}

describe('leased rate-limit tokens', () => {
  it('never admit more than the limit across two holders of one bucket, and under a burst admit all of it', async () => {
    const t = await createTenant({ rateLimitPerMinute: 30 })
    const [a, b] = [holder(), holder()]
    const decisions = await Promise.all(Array.from({ length: 45 }, (_, i) => (i % 2 ? b : a).take(t.org.id, 30)))
    const admitted = decisions.filter((d) => d.allowed)
    expect(admitted).toHaveLength(30)
    // Each batch is a run of the bucket's count, so every admitted request saw a remaining count of its own.
    expect(admitted.map((d) => d.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    for (const d of decisions.filter((d) => !d.allowed)) {
      expect(d).toMatchObject({ limit: 30, remaining: 0 })
      expect(d.retryAfter).toBeGreaterThanOrEqual(1)
    }
    expect(await bucket(t.org.id)).toMatchObject({ current_count: 30 })
  })

  it('hand out batches of at most a twentieth of the limit, and of a quarter of what is left', async () => {
    const t = await createTenant({ rateLimitPerMinute: 400 })
    const a = holder()
    await Promise.all(Array.from({ length: 5 }, () => a.take(t.org.id, 400)))
    // The first batch was for the five waiting requests; the next one asks for twice as many, up to 20.
    await Promise.all(Array.from({ length: 40 }, () => a.take(t.org.id, 400)))
    expect(a.held(t.org.id)).toBeLessThanOrEqual(20)
    await serviceSql()`update agentry.rate_limits set current_count = 392 where org_id = ${t.org.id}`
    const other = holder()
    await Promise.all(Array.from({ length: 3 }, () => other.take(t.org.id, 400)))
    // 8 were left: batches of 2 (a quarter), so nothing more than what the three requests needed plus one.
    expect(other.held(t.org.id)).toBeLessThanOrEqual(1)
  })

  it('give unspent tokens back when the lease ends, and when the holder stops', async () => {
    const t = await createTenant({ rateLimitPerMinute: 1000 })
    const a = holder({ leaseMs: 300 })
    // Batches double while they run out early: 1, 2, 4, 8 tokens for eight sequential requests leaves 7 unspent.
    for (let i = 0; i < 8; i++) expect((await a.take(t.org.id, 1000)).allowed).toBe(true)
    expect(a.held(t.org.id)).toBe(7)
    expect(await bucket(t.org.id)).toMatchObject({ current_count: 15 })
    // The lease ends on the set clock; the sweeper, every leaseMs of real time, then gives the 7 back.
    advanceClockForTests(300)
    const deadline = Date.now() + 3000
    while ((await bucket(t.org.id)).current_count !== 8) {
      expect(Date.now(), 'the unspent tokens were not given back').toBeLessThan(deadline)
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(a.held(t.org.id)).toBe(0)

    const b = holder()
    for (let i = 0; i < 8; i++) await b.take(t.org.id, 1000)
    expect(b.held(t.org.id)).toBe(7)
    await b.stop()
    expect(b.held()).toBe(0)
    expect(await bucket(t.org.id)).toMatchObject({ current_count: 16 })
  })

  it('never spend a window’s tokens after it ends, however late the lease’s answer came', async () => {
    const t = await createTenant({ rateLimitPerMinute: 1000 })
    // The database answers as usual, but once `late` is set its answer reaches the holder half a second later
    // on the shared clock.
    let late = false
    const sql = serviceSql()
    const slowSql = ((...args: Parameters<typeof sql>) =>
      sql(...args).then((rows) => {
        if (late) advanceClockForTests(500)
        return rows
      })) as unknown as typeof sql
    const a = new RateLeases(() => slowSql)
    holders.push(a)
    // Batches grow while they run out, so the fourth request's lease holds tokens it did not need.
    for (let i = 0; i < 3; i++) await a.take(t.org.id, 1000)
    setClockForTests(minute + 59_700)
    late = true
    expect((await a.take(t.org.id, 1000)).reset).toBe((minute + 60_000) / 1000)
    late = false
    expect(a.held(t.org.id)).toBeGreaterThan(0)
    // Now 60.2 s into the minute: that lease, asked for at 59.7 s, ended with its window, so this takes a new one.
    const next = await a.take(t.org.id, 1000)
    expect(next.allowed).toBe(true)
    expect(next.reset).toBe((minute + 120_000) / 1000)
    expect(next.reset).toBeGreaterThan(now() / 1000)
  })

  it('report Retry-After never shorter than the real wait, and not a second longer', async () => {
    const t = await createTenant({ rateLimitPerMinute: 100 })
    // A full previous minute weighs enough that the next token frees up about two seconds from now.
    const elapsed = (now() % 60_000) / 1000
    const previous = Math.ceil((99 * 60) / (60 - elapsed - 2))
    await serviceSql()`
      insert into agentry.rate_limits (org_id, window_start, current_count, previous_count)
      values (${t.org.id}, ${new Date(minute)}, 0, ${previous})
      on conflict (org_id) do update set window_start = excluded.window_start, current_count = 0, previous_count = excluded.previous_count`
    const refused = await holder().take(t.org.id, 100)
    expect(refused.allowed).toBe(false)
    expect(refused.retryAfter).toBeGreaterThanOrEqual(2)
    expect(refused.retryAfter).toBeLessThanOrEqual(4)
    const refusedAt = now()
    advanceClockForTests(refusedAt + (refused.retryAfter - 1) * 1000 - 100 - now())
    expect((await holder().take(t.org.id, 100)).allowed).toBe(false)
    advanceClockForTests(refusedAt + refused.retryAfter * 1000 - now())
    expect((await holder().take(t.org.id, 100)).allowed).toBe(true)
  })

  it('refuse without asking again for a moment after a refusal, counting the wait down', async () => {
    const t = await createTenant({ rateLimitPerMinute: 2 })
    const a = holder({ refusalMs: 10_000 })
    await a.take(t.org.id, 2)
    await a.take(t.org.id, 2)
    const first = (await a.take(t.org.id, 2)) as RateDecision
    expect(first.allowed).toBe(false)
    await serviceSql()`update agentry.rate_limits set current_count = 0 where org_id = ${t.org.id}`
    const again = a.take(t.org.id, 2)
    // Answered from memory: no promise, no statement.
    expect(again).not.toBeInstanceOf(Promise)
    expect((again as RateDecision).allowed).toBe(false)
    expect((again as RateDecision).retryAfter).toBeLessThanOrEqual(first.retryAfter)
    // A changed limit is a new question.
    expect((await a.take(t.org.id, 3)).allowed).toBe(true)
  })

  it('admit up to the limit and refuse the next wherever the minute stands (the real-time smoke test of the rate window)', async () => {
    resetClockForTests()
    const t = await createTenant({ rateLimitPerMinute: 5 })
    const a = holder()
    // Across a window's turn the minute just past weighs almost fully, so five in a row still fill the limit.
    const allowed = []
    for (let i = 0; i < 6; i++) allowed.push((await a.take(t.org.id, 5)).allowed)
    expect(allowed).toEqual([true, true, true, true, true, false])
  })

  it('admit at least 95 % of the limit, and never more, under steady overload from two holders', async () => {
    const limit = 120
    const t = await createTenant({ rateLimitPerMinute: limit })
    const [a, b] = [holder({ leaseMs: 200 }), holder({ leaseMs: 200 })]
    // Five seconds at about 40 requests a second per holder, all inside one window: four times the limit.
    let admitted = 0
    let refused = 0
    const end = Date.now() + 5000
    await Promise.all(
      [a, b].map(async (h) => {
        while (Date.now() < end) {
          if ((await h.take(t.org.id, limit)).allowed) admitted++
          else refused++
          await new Promise((r) => setTimeout(r, 25))
        }
      }),
    )
    expect(admitted + refused).toBeGreaterThan(2 * limit)
    expect(admitted).toBeLessThanOrEqual(limit)
    expect(admitted).toBeGreaterThanOrEqual(Math.ceil(0.95 * limit))
  })
})
