// The per-endpoint cap is work-conserving: an endpoint alone with due work may use slots nobody else wants,
// up to the burst, and is held to its share again as soon as another endpoint has due work. A receiver
// that hangs mid-burst still leaves a dispatcher room for another endpoint. Real claims, and a real
// dispatcher with receivers on loopback.
import { afterEach, describe, expect, it } from 'vitest'
import { database } from '../../functions/_core/db.ts'
import { startDispatcher } from '../../functions/webhooks/dispatcher.ts'
import { claimDueDeliveries, type ClaimOptions } from '../../functions/webhooks/queue.ts'
import { maxAttempts } from '../../functions/webhooks/schedule.ts'
import type { Receiver } from '../harness/receiver.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createEndpoint, indexEntriesRead, queueTestEvents, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite()

// Each test starts from a queue with nothing due and nothing in flight.
afterEach(async () => {
  await serviceSql()`update agentry.webhook_deliveries set status = 'delivered', locked_until = null where status in ('pending', 'failed')`
})

const receiver = (delayMs: number): Promise<Receiver> => suite.receiver({ status: 200, body: 'ok', delayMs })
const queue = (t: Tenant, endpointId: string, count: number) => queueTestEvents(t, [endpointId], count)

/** Deliveries claimed, per endpoint. */
async function claim(o: Partial<ClaimOptions> = {}): Promise<Record<string, number>> {
  const claimed = await claimDueDeliveries(database(), {
    limit: 100,
    leaseSeconds: 60,
    perEndpoint: 10,
    endpointBurst: 50,
    maxAttempts,
    ...o,
  })
  if (claimed.length === 0) return {}
  const rows = await serviceSql()<{ endpoint_id: string; n: number }[]>`
    select endpoint_id, count(*)::int as n from agentry.webhook_deliveries where id =
      any(${claimed.map((d) => d.id)}::uuid[]) group by endpoint_id`
  return Object.fromEntries(rows.map((r) => [r.endpoint_id, r.n]))
}

/** An endpoint of a new organisation's, with `count` deliveries due. */
async function endpointWithWork(count: number, url?: string): Promise<{ tenant: Tenant; id: string }> {
  const tenant = await createTenant()
  const { id } = await createEndpoint(tenant, { url })
  await queue(tenant, id, count)
  return { tenant, id }
}

describe('claiming for an endpoint alone with due work', () => {
  it('gives it up to the burst in flight rather than its share, and no more', async () => {
    const a = await endpointWithWork(80)
    expect(await claim()).toEqual({ [a.id]: 50 })
    expect(await claim()).toEqual({})
  })

  it('holds it to its share without a burst', async () => {
    const a = await endpointWithWork(80)
    expect(await claim({ endpointBurst: undefined })).toEqual({ [a.id]: 10 })
    expect(await claim({ endpointBurst: undefined })).toEqual({})
  })

  it("holds it to its share again once a claim sees another endpoint's due work, and lets it burst once that is done", async () => {
    const a = await endpointWithWork(80)
    expect(await claim({ limit: 30 })).toEqual({ [a.id]: 30 })
    const b = await endpointWithWork(20)
    expect(await claim()).toEqual({ [b.id]: 10 })
    // B is at its share with due work still waiting: A, over its own, gets none either.
    expect(await claim()).toEqual({})
    await serviceSql()`update agentry.webhook_deliveries set status = 'delivered', locked_until = null where endpoint_id = ${b.id}`
    expect(await claim()).toEqual({ [a.id]: 20 })
  })

  it('gives it no more in one claim than the burst limit, and never less than its share', async () => {
    const a = await endpointWithWork(80)
    expect(await claim({ burstLimit: 3 })).toEqual({ [a.id]: 10 })
    expect(await claim({ burstLimit: 15 })).toEqual({ [a.id]: 15 })
    expect(await claim({ burstLimit: 0 })).toEqual({})
  })
})

describe("counting an endpoint's deliveries in flight", () => {
  it('counts only live leases, and steps over the index entries that ended leases left behind once it has met them', async () => {
    const { id } = await endpointWithWork(2003)
    const sql = serviceSql()
    // Each lease set and then cleared leaves an index entry that still reads as in flight until a vacuum. Each
    // has a time of its own, as claims made one after another give them.
    await sql`update agentry.webhook_deliveries d set locked_until = now() + interval '1 minute' + make_interval(secs => l.n / 1000.0)
      from (select id, row_number() over (order by id) as n from agentry.webhook_deliveries where endpoint_id = ${id}) l
      where d.id = l.id`
    await sql`update agentry.webhook_deliveries set locked_until = null
      where id in (select id from agentry.webhook_deliveries where endpoint_id = ${id} order by id offset 3)`
    const [counts] = await sql.begin(async (tx) => {
      const entriesRead = () => indexEntriesRead(tx, 'webhook_deliveries_leased_idx')
      const inFlight = async () => (await tx<{ n: number }[]>`select agentry.webhook_endpoint_in_flight(${id}, now()) as n`)[0].n
      const first = await inFlight()
      const readFirst = await entriesRead()
      const second = await inFlight()
      return [{ first, second, readFirst, readSecond: (await entriesRead()) - readFirst }]
    })
    expect(counts.first).toBe(3)
    expect(counts.second).toBe(3)
    // The first count met up to 2,003 entries (fewer if a vacuum came first); a bitmap scan meets them all every time.
    expect(counts.readSecond).toBe(3)
  })
})

describe('a dispatcher with one busy endpoint', () => {
  async function waitUntil(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  it("sends it more than 10 at once, yet while its receiver hangs delivers the same organisation's other endpoint at once", async () => {
    const hanging = await receiver(8000)
    const fast = await receiver(0)
    const t = await createTenant()
    const a = (await createEndpoint(t, { url: hanging.url })).id
    const other = (await createEndpoint(t, { url: fast.url })).id
    await queue(t, a, 300)
    const dispatcher = startDispatcher(database(), { transport: suite.transport, timeoutMs: 10_000, pollMs: 100 })
    try {
      await waitUntil('the hanging receiver has 30 requests', () => hanging.inFlight >= 30)
      const sent = Date.now()
      await queue(t, other, 20)
      await fast.waitFor(20, 6000)
      // Well before the hanging requests end (8 s): the other endpoint was not left waiting for their slots.
      expect(fast.received[19].at - sent).toBeLessThan(6000)
      // Of the dispatcher's 50 slots, a burst leaves one endpoint's share (10) and the fifth kept for quiet
      // organisations (10).
      expect(hanging.maxInFlight).toBe(30)
      expect(fast.maxInFlight).toBeLessThanOrEqual(10)
    } finally {
      await dispatcher.stop()
    }
  }, 40_000)

  it('holds it to 10 at once again while another endpoint has due work waiting', async () => {
    const first = await receiver(200)
    const second = await receiver(200)
    await endpointWithWork(2000, first.url)
    const b = await endpointWithWork(0, second.url)
    const dispatcher = startDispatcher(database(), { transport: suite.transport, timeoutMs: 10_000, pollMs: 100 })
    try {
      await waitUntil('the first endpoint bursts past 10', () => first.inFlight > 10)
      await queue(b.tenant, b.id, 2000)
      await waitUntil('the second endpoint is being delivered to', () => second.received.length > 0)
      // The burst's requests end within their 200 ms; what is in flight from then on was claimed under the cap.
      await new Promise((r) => setTimeout(r, 1000))
      first.maxInFlight = first.inFlight
      second.maxInFlight = second.inFlight
      const before = first.received.length
      await new Promise((r) => setTimeout(r, 2000))
      expect(first.received.length).toBeGreaterThan(before)
      expect(first.maxInFlight).toBeLessThanOrEqual(10)
      expect(second.maxInFlight).toBeLessThanOrEqual(10)
    } finally {
      await dispatcher.stop()
    }
  }, 40_000)
})
