// The delivery queue keeps the product's clock (functions/_core/clock.ts): when a retry comes due, when a
// lease runs out, when a Retry-After date arrives, when a failing streak has lasted five days, when a
// previous secret stops signing and when the log forgets an event. The clock is stopped and stepped, so each
// is checked at the exact millisecond, without waiting. Real dispatcher passes with the Node transport, a
// real receiver on loopback. (reliability.test.ts keeps one retry on the real clock.)
import { afterEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests, stopClockForTests } from '../../functions/_core/clock.ts'
import { database } from '../../functions/_core/db.ts'
import { pruneDeliveryLog } from '../../functions/webhooks/dispatcher.ts'
import { claimDueDeliveries } from '../../functions/webhooks/queue.ts'
import { maxAttempts } from '../../functions/webhooks/schedule.ts'
import { generateSecret } from '../../functions/webhooks/signing.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { createDelivery, queueTestEvents, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite()

afterEach(() => resetClockForTests())

const day = 24 * 3600_000

/** A whole second a little ahead of the system clock: deliveries made before it are due at it, and HTTP dates name it exactly. */
function aWholeSecondAhead(): number {
  return Math.ceil((Date.now() + 1000) / 1000) * 1000
}

async function deliveryOf(id: string) {
  const [d] = await serviceSql()<{ status: string; attempt_count: number; next_attempt_at: Date; attempts: { started_at: string }[] }[]>`
    select d.status, d.attempt_count, d.next_attempt_at,
      coalesce((select json_agg(json_build_object('started_at', a.started_at) order by a.attempt)
                from agentry.webhook_attempts a where a.delivery_id = d.id), '[]') as attempts
    from agentry.webhook_deliveries d where d.id = ${id}`
  return { ...d, attempts: d.attempts.map((a) => Date.parse(a.started_at)) }
}

const attemptsSent = (r: { received: { headers: Record<string, unknown> }[] }) => r.received.map((x) => x.headers['x-agentry-attempt'])

describe('a failed delivery on the set clock', () => {
  it('is tried again at the millisecond its backoff names, not one before, signed at that time', async () => {
    const t = await createTenant()
    const answers = [500, 200]
    const r = await suite.receiver(() => ({ status: answers.shift() ?? 200 }))
    const { id } = await createDelivery(t, { url: r.url })
    const t0 = aWholeSecondAhead()
    stopClockForTests(t0)

    expect(await suite.dispatchAllDue()).toBe(1)
    const failed = await deliveryOf(id)
    expect(failed).toMatchObject({ status: 'failed', attempt_count: 1, attempts: [t0] })
    const due = failed.next_attempt_at.getTime()
    // The first step of the backoff, 5 s ±20 %, from the clock's time when the attempt ended.
    expect(due - t0).toBeGreaterThanOrEqual(4000)
    expect(due - t0).toBeLessThanOrEqual(6000)

    advanceClockForTests(due - 1 - t0)
    expect(await suite.dispatchAllDue()).toBe(0)
    expect(attemptsSent(r)).toEqual(['1'])
    advanceClockForTests(1)
    expect(await suite.dispatchAllDue()).toBe(1)
    expect(attemptsSent(r)).toEqual(['1', '2'])
    expect(r.received[1].headers['x-agentry-timestamp']).toBe(String(due))
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempt_count: 2, attempts: [t0, due] })
  })

  it('waits for a Retry-After given as an HTTP date, read on the clock, to the millisecond', async () => {
    const t = await createTenant()
    const t0 = aWholeSecondAhead()
    const twoHoursOn = t0 + 2 * 3600_000
    const answers = [{ status: 503, headers: { 'retry-after': new Date(twoHoursOn).toUTCString() } }, { status: 200 }]
    const r = await suite.receiver(() => answers.shift() ?? { status: 200 })
    const { id } = await createDelivery(t, { url: r.url })
    stopClockForTests(t0)

    expect(await suite.dispatchAllDue()).toBe(1)
    expect((await deliveryOf(id)).next_attempt_at.getTime()).toBe(twoHoursOn)
    advanceClockForTests(twoHoursOn - 1 - t0)
    expect(await suite.dispatchAllDue()).toBe(0)
    advanceClockForTests(1)
    expect(await suite.dispatchAllDue()).toBe(1)
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempts: [t0, twoHoursOn] })
  })
})

describe('a claim whose dispatcher stopped', () => {
  it('holds the delivery until its lease has run out, and it is claimed again the millisecond after', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    const { id } = await createDelivery(t, { url: r.url })
    const t0 = aWholeSecondAhead()
    stopClockForTests(t0)
    // Claimed and never sent: the dispatcher stopped.
    const claimed = await claimDueDeliveries(database(), { limit: 10, leaseSeconds: 60, perEndpoint: 10, maxAttempts })
    expect(claimed.map((d) => d.id)).toEqual([id])

    advanceClockForTests(60_000)
    expect(await suite.dispatchAllDue()).toBe(0)
    advanceClockForTests(1)
    expect(await suite.dispatchAllDue()).toBe(1)
    expect(attemptsSent(r)).toEqual(['2'])
    expect(await deliveryOf(id)).toMatchObject({ status: 'delivered', attempt_count: 2, attempts: [t0 + 60_001] })
  })
})

describe('an endpoint that keeps failing', () => {
  it('is disabled by the first failure recorded more than five days after its streak began, by the clock', async () => {
    const t = await createTenant()
    const r = await suite.receiver({ status: 500 })
    const { id, endpointId } = await createDelivery(t, { url: r.url })
    const endpoint = async () =>
      (
        await serviceSql()<{ enabled: boolean; failing_since: Date | null; disabled_reason: string | null; disabled_at: Date | null }[]>`
          select enabled, failing_since, disabled_reason, disabled_at from agentry.webhook_endpoints where id = ${endpointId}`
      )[0]
    const t0 = aWholeSecondAhead()
    stopClockForTests(t0)
    expect(await suite.dispatchAllDue()).toBe(1)
    expect(await endpoint()).toMatchObject({ enabled: true, failing_since: new Date(t0), disabled_at: null })

    // Five days exactly: not more than five days yet.
    advanceClockForTests(5 * day)
    expect(await suite.dispatchAllDue()).toBe(1)
    expect((await endpoint()).enabled).toBe(true)

    const due = (await deliveryOf(id)).next_attempt_at.getTime()
    advanceClockForTests(due - (t0 + 5 * day))
    expect(await suite.dispatchAllDue()).toBe(1)
    expect(await endpoint()).toMatchObject({ enabled: false, disabled_reason: 'failing', disabled_at: new Date(due) })
    expect(attemptsSent(r)).toEqual(['1', '2', '3'])
  })
})

describe('a rotated secret', () => {
  it('still signs beside the new one until its day is over by the clock, and not after', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    const { endpointId } = await createDelivery(t, { url: r.url })
    const t0 = aWholeSecondAhead()
    await serviceSql()`update agentry.webhook_endpoints set previous_secret = ${generateSecret()},
      previous_secret_expires_at = ${new Date(t0 + day)} where id = ${endpointId}`
    stopClockForTests(t0 + day - 1)
    expect(await suite.dispatchAllDue()).toBe(1)
    advanceClockForTests(1)
    await queueTestEvents(t, [endpointId], 1)
    expect(await suite.dispatchAllDue()).toBe(1)
    const signatures = r.received.map((x) => (x.headers['webhook-signature'] as string).split(' ').length)
    expect(signatures).toEqual([2, 1])
  })
})

describe("the log's history", () => {
  it('forgets an ended event the millisecond it is more than the retention old by the clock', async () => {
    const t = await createTenant()
    const { id } = await createDelivery(t, { url: 'http://127.0.0.1:9/never', enabled: false })
    const [{ event_id: eventId, created_at: createdAt }] = await serviceSql()<{ event_id: string; created_at: Date }[]>`
      update agentry.webhook_deliveries d set status = 'delivered' from agentry.events e
      where d.id = ${id} and e.id = d.event_id returning d.event_id, e.created_at`
    const eventExists = async () => (await serviceSql()`select 1 from agentry.events where id = ${eventId}`).length === 1
    // created_at has microseconds; the clock has milliseconds: the millisecond it began is not after it.
    stopClockForTests(createdAt.getTime() + 30 * day)
    await pruneDeliveryLog(database(), 30)
    expect(await eventExists()).toBe(true)
    advanceClockForTests(1)
    await pruneDeliveryLog(database(), 30)
    expect(await eventExists()).toBe(false)
  })
})
