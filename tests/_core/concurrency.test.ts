import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests } from '../../functions/_core/clock.ts'
import { enterOrganisation, requestsInFlight, takeRowQueryTurn } from '../../functions/_core/concurrency.ts'
import { startApi, type ApiResponse, type TestApi } from '../harness/api.ts'
import { givePlan } from '../harness/plans.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

/**
 * Holds `count` renames of the tenant's organisation in flight: a service transaction locks the
 * organisation's row, so each rename waits inside its handler, holding a slot and a pooled connection,
 * until `release` commits.
 */
async function holdRequests(t: Tenant, key: string, count: number) {
  const lock = await serviceSql().reserve()
  await lock`begin`
  await lock`select id from agentry.organisations where id = ${t.org.id} for update`
  const held = Array.from({ length: count }, (_, i) => api.call('PATCH', '/agent/org', { key, body: { name: `Renamed ${i}` } }))
  await waitFor(async () => {
    const [{ waiting }] = await serviceSql()`
      select count(*)::int as waiting from pg_stat_activity
      where wait_event_type = 'Lock' and query like 'update agentry.organisations%'`
    return waiting >= count
  })
  return async (): Promise<ApiResponse[]> => {
    await lock`commit`
    lock.release()
    return Promise.all(held)
  }
}

async function waitFor(condition: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the held requests')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('the per-organisation cap on requests in flight', () => {
  it('lets a free organisation have 4 requests in flight and refuses the fifth with 429 and Retry-After', async () => {
    const t = await createTenant()
    const key = await t.key()
    const release = await holdRequests(t, key, 4)

    const refused = await api.call('GET', '/me', { key })
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.body.error).toEqual({
      code: 'too_many_concurrent_requests',
      message: 'This organisation already has 4 requests in flight, the most its plan allows at once; retry in 1 s.',
    })

    expect((await release()).map((r) => r.status)).toEqual([200, 200, 200, 200])
    expect((await api.call('GET', '/me', { key })).status).toBe(200)
  })

  it("takes the cap from the organisation's plan", async () => {
    const t = await createTenant()
    await givePlan(t, { maxConcurrentRequests: 2 })
    const key = await t.key()
    const release = await holdRequests(t, key, 2)
    const refused = await api.call('GET', '/agent/api-keys', { key })
    expect(refused.status).toBe(429)
    expect(refused.body.error.message).toMatch(/already has 2 requests in flight/)
    await release()
  })

  it('leaves other organisations untouched while one is at its cap', async () => {
    const busy = await createTenant()
    const busyKey = await busy.key()
    const other = await createTenant()
    const otherKey = await other.key()
    const release = await holdRequests(busy, busyKey, 4)
    expect((await api.call('GET', '/me', { key: busyKey })).status).toBe(429)
    expect((await api.call('GET', '/agent/api-keys', { key: otherKey })).status).toBe(200)
    await release()
  })

  it('authenticates other tenants from a pool of its own while tenant work holds every pooled connection', async () => {
    // The app's pool has 10 connections (DATABASE_POOL_SIZE's default): an organisation allowed more
    // requests in flight holds them all.
    const hog = await createTenant()
    await givePlan(hog, { maxConcurrentRequests: 100 })
    const release = await holdRequests(hog, await hog.key(), 10)

    const other = await createTenant()
    const started = Date.now()
    const me = await api.call('GET', '/me', { key: await other.key() })
    const unknown = await api.call('GET', '/me', { key: `pk_${'0'.repeat(32)}` })
    expect(me.status).toBe(200)
    expect(unknown.status).toBe(401)
    expect(Date.now() - started).toBeLessThan(2_000)

    expect((await release()).every((r) => r.status === 200)).toBe(true)
  })

  it('gives a slot back once, however often its release is called, and counts organisations apart', () => {
    const org = crypto.randomUUID()
    const first = enterOrganisation(org, 2)
    const second = enterOrganisation(org, 2)
    expect(first).not.toBeNull()
    expect(second).not.toBeNull()
    expect(enterOrganisation(org, 2)).toBeNull()
    const elsewhere = enterOrganisation(crypto.randomUUID(), 2)
    expect(elsewhere).not.toBeNull()
    elsewhere!()
    first!()
    first!()
    expect(requestsInFlight(org)).toBe(1)
    second!()
    expect(requestsInFlight(org)).toBe(0)
  })

  it('gives the slot back when the handler fails', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const name of ['', '\u0000', '', '\u0000', '', '\u0000']) {
      const res = await api.call('PATCH', '/agent/org', { key, body: { name } })
      expect(res.status).toBe(400)
    }
    expect(requestsInFlight(t.org.id)).toBe(0)
  })
})

describe("an organisation's turns at row queries", () => {
  // A row query's length and the second in which a neighbour counts as recent are read from the settable
  // clock, so each test steps it instead of waiting; only the rest itself is a real wait, measured once.
  afterEach(() => resetClockForTests())
  /** Lets every turn that is free to start start: a turn still missing after this is being withheld. */
  const settle = () => new Promise((resolve) => setImmediate(resolve))
  /** Another organisation with a request in flight in this process, until the returned release. */
  const neighbour = () => enterOrganisation(crypto.randomUUID(), 1)!

  it('runs them `cap` at a time, in the order they came, and other organisations beside them', async () => {
    const leave = neighbour()
    const org = crypto.randomUUID()
    const order: string[] = []
    const first = await takeRowQueryTurn(org, 1)
    const queued = ['second', 'third'].map(async (name) => {
      const handOn = await takeRowQueryTurn(org, 1)
      order.push(name)
      handOn()
    })
    const elsewhere = await takeRowQueryTurn(crypto.randomUUID(), 1)
    elsewhere()
    await settle()
    expect(order).toEqual([])
    first()
    await Promise.all(queued)
    expect(order).toEqual(['second', 'third'])
    leave()
  })

  it('leaves an organisation alone in the process unrationed: nobody is waiting for the database', async () => {
    advanceClockForTests(1100) // the neighbours of earlier tests are no longer recent
    const org = crypto.randomUUID()
    const turns = await Promise.all([1, 2, 3].map(() => takeRowQueryTurn(org, 1, 0.5, 0)))
    advanceClockForTests(50)
    for (const handOn of turns) handOn()
    const asked = Date.now()
    ;(await takeRowQueryTurn(org, 1, 0.5, 0))()
    expect(Date.now() - asked).toBeLessThan(15)

    // Once another organisation turns up, the turns are rationed again: one at a time, after the rest.
    advanceClockForTests(100) // the rest the 50 ms queries earned is over
    const leave = neighbour()
    const first = await takeRowQueryTurn(org, 1, 0.5, 0)
    let second = false
    const waiting = takeRowQueryTurn(org, 1, 0.5, 0).then((handOn) => {
      second = true
      handOn()
    })
    await settle()
    expect(second).toBe(false)
    first()
    await waiting
    expect(second).toBe(true)
    leave()
  })

  it('rests after a long query so the organisation keeps a core busy at most `share` of the time (the real-time smoke test of the rest)', async () => {
    const leave = neighbour()
    const org = crypto.randomUUID()
    const handOn = await takeRowQueryTurn(org, 1, 0.5, 50)
    advanceClockForTests(250)
    handOn()
    const asked = Date.now()
    ;(await takeRowQueryTurn(org, 1, 0.5, 50))()
    // 250 ms, of which 50 are free: 200 ms of rest.
    expect(Date.now() - asked).toBeGreaterThanOrEqual(180)

    // A quick query owes no rest.
    const quick = crypto.randomUUID()
    const first = await takeRowQueryTurn(quick, 1, 0.5, 50)
    advanceClockForTests(20)
    first()
    const again = Date.now()
    ;(await takeRowQueryTurn(quick, 1, 0.5, 50))()
    expect(Date.now() - again).toBeLessThan(15)
    leave()
  })
})
