// What a receiver answers cannot stall the queue: hostile bytes are stored cleaned, an outcome that cannot
// be stored never holds the others, and a delivery whose last attempt was abandoned does not go round
// forever. Real dispatcher, Node transport, receivers on loopback, two tenants.
import { describe, expect, it } from 'vitest'
import { database } from '../../functions/_core/db.ts'
import { startDispatcher } from '../../functions/webhooks/dispatcher.ts'
import { abandonedError, claimDueDeliveries, recordOutcomes, unrecordableError, type Outcome } from '../../functions/webhooks/queue.ts'
import { maxAttempts } from '../../functions/webhooks/schedule.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { createDelivery, createEndpoint, queueTestEvents, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite()

interface DeliveryState {
  id: string
  status: string
  attempt_count: number
  leased: boolean
  last_error: string | null
  last_status_code: number | null
  attempts: { status_code: number | null; error: string | null; response_body: string | null }[]
}

async function deliveries(ids: string[]): Promise<DeliveryState[]> {
  return serviceSql()<DeliveryState[]>`
    select d.id, d.status, d.attempt_count, d.locked_until is not null as leased, d.last_error, d.last_status_code,
      coalesce((select json_agg(json_build_object('status_code', a.status_code, 'error', a.error, 'response_body',
        a.response_body) order by a.id)
                from agentry.webhook_attempts a where a.delivery_id = d.id), '[]') as attempts
    from agentry.webhook_deliveries d where d.id = any(${ids}::uuid[])
    order by array_position(${ids}::uuid[], d.id)`
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const final = (d: DeliveryState) => (d.status === 'delivered' || d.status === 'dead') && !d.leased

describe('a receiver answering hostile bytes', () => {
  it("holds no other tenant's deliveries, and its own reach a final state with what they answered stored cleaned", async () => {
    const hostile = await createTenant()
    const nul = await suite.receiver({ status: 200, body: 'a\0b' })
    const notUtf8 = await suite.receiver({ status: 200, body: new Uint8Array([0x6f, 0x6b, 0xff, 0xfe, 0xc3]) })
    const huge = await suite.receiver({ status: 200, body: new Uint8Array(10 * 1024 * 1024).fill(0) })
    const drip = await suite.receiver({ status: 200, drip: { chunk: '\0', everyMs: 100 } })
    const redirect = await suite.receiver({ status: 302, headers: { location: `http://127.0.0.1:9/${'a'.repeat(8 * 1024)}` } })
    const controls = await suite.receiver({ status: 500, body: '\x01\x1b[31mred\0\ttab\r\nline\x7f' })
    const [a, b, c, d, e, f] = await Promise.all(
      [nul, notUtf8, huge, drip, redirect, controls].map((r) => createDelivery(hostile, { url: r.url })),
    )
    // The ones that fail are on their last attempt, so that their final state (dead) comes at once.
    await serviceSql()`update agentry.webhook_deliveries set attempt_count = ${maxAttempts - 1} where id =
      any(${[d.id, e.id, f.id]}::uuid[])`

    const other = await createTenant()
    const fast = await suite.receiver({ status: 200, body: 'ok' })
    const { id: endpointId } = await createEndpoint(other, { url: fast.url })
    await queueTestEvents(other, [endpointId], 20)
    const others = (await serviceSql()<{ id: string }[]>`select id from agentry.webhook_deliveries where endpoint_id = ${endpointId}`).map(
      (r) => r.id,
    )

    const started = Date.now()
    const dispatcher = startDispatcher(database(), { transport: suite.transport, timeoutMs: 5000, pollMs: 100 })
    try {
      await until("the other tenant's deliveries were delivered", 10_000, async () => {
        const rows = await deliveries(others)
        return rows.every((r) => r.status === 'delivered') ? rows : undefined
      })
      // The dripping receiver holds its request for the whole 5 s timeout; the other tenant never waits for it.
      expect(Date.now() - started).toBeLessThan(3000)
      expect(fast.received).toHaveLength(20)

      const hostileIds = [a.id, b.id, c.id, d.id, e.id, f.id]
      const rows = await until('every hostile delivery reached a final state', 20_000, async () => {
        const rows = await deliveries(hostileIds)
        return rows.every(final) ? rows : undefined
      })
      const [withNul, withBadUtf8, withHugeBody, dripping, redirected, withControls] = rows
      expect(withNul).toMatchObject({
        status: 'delivered',
        attempt_count: 1,
        attempts: [{ status_code: 200, error: null, response_body: 'a\ufffdb' }],
      })
      expect(withBadUtf8).toMatchObject({ status: 'delivered', attempts: [{ status_code: 200, response_body: 'ok\ufffd\ufffd\ufffd' }] })
      expect(withHugeBody.status).toBe('delivered')
      expect(withHugeBody.attempts[0].response_body).toBe('\ufffd'.repeat(2048))
      expect(dripping).toMatchObject({
        status: 'dead',
        attempt_count: maxAttempts,
        last_error: 'No answer within 5000 ms',
        last_status_code: null,
      })
      expect(redirected).toMatchObject({ status: 'dead', attempt_count: maxAttempts, last_status_code: 302 })
      expect(redirected.last_error).toBe(
        `Redirect (302) to http://127.0.0.1:9/${'a'.repeat(500 - 'http://127.0.0.1:9/'.length)} not followed`,
      )
      expect(withControls).toMatchObject({
        status: 'dead',
        last_error: 'Receiver answered 500',
        attempts: [{ status_code: 500, response_body: '\ufffd\ufffd[31mred\ufffd\ttab\r\nline\x7f' }],
      })
    } finally {
      await dispatcher.stop()
    }
  }, 40_000)
})

describe('recording outcomes', () => {
  it('records every other outcome of a batch when one cannot be stored, and that one without its body', async () => {
    const t = await createTenant()
    const ids = (await Promise.all([1, 2, 3].map(() => createDelivery(t)))).map((d) => d.id)
    const claimed = await claimDueDeliveries(database(), { limit: 10, leaseSeconds: 60, perEndpoint: 10, maxAttempts })
    expect(claimed.map((d) => d.id).sort()).toEqual([...ids].sort())
    const outcome = (id: string, o: Partial<Outcome>): Outcome => ({
      id,
      attempt: 1,
      started_at: new Date().toISOString(),
      status_code: 200,
      error: null,
      error_kind: null,
      latency_ms: 5,
      response_body: 'fine',
      outcome: 'delivered',
      next_attempt_at: null,
      ...o,
    })
    // Outcomes as no dispatcher makes them any more: raw NUL, which Postgres refuses in jsonb and text.
    const errors = await recordOutcomes(database(), [
      outcome(ids[0], {}),
      outcome(ids[1], { response_body: 'a\u0000b' }),
      outcome(ids[2], {
        status_code: 500,
        error: 'Receiver answered 500\u0000',
        response_body: '\u0000',
        outcome: 'failed',
        next_attempt_at: new Date(Date.now() + 60_000).toISOString(),
      }),
    ])
    expect(errors.length).toBeGreaterThan(0)
    const [fine, badBody, badError] = await deliveries(ids)
    expect(fine).toMatchObject({ status: 'delivered', leased: false, attempts: [{ status_code: 200, error: null, response_body: 'fine' }] })
    expect(badBody).toMatchObject({
      status: 'delivered',
      leased: false,
      attempts: [{ status_code: 200, error: null, response_body: null }],
    })
    expect(badError).toMatchObject({
      status: 'failed',
      leased: false,
      last_error: unrecordableError,
      attempts: [{ status_code: 500, error: unrecordableError, response_body: null }],
    })
  })
})

describe('the attempt cap', () => {
  it('marks dead, without sending it, a delivery whose last attempt was abandoned, and still claims one with attempts left', async () => {
    const t = await createTenant()
    const used = await createDelivery(t)
    const oneLeft = await createDelivery(t)
    const retriedByHand = await createDelivery(t)
    const sql = serviceSql()
    await sql`update agentry.webhook_deliveries set attempt_count = ${maxAttempts}, locked_until = now() - interval
      '1 second' where id = ${used.id}`
    await sql`update agentry.webhook_deliveries set attempt_count = ${maxAttempts - 1}, locked_until = now() - interval
      '1 second' where id = ${oneLeft.id}`
    // A dead delivery the tenant retried: its lease was cleared when its last outcome was recorded.
    await sql`update agentry.webhook_deliveries set attempt_count = ${maxAttempts}, locked_until = null where id = ${retriedByHand.id}`

    const claimed = await claimDueDeliveries(database(), { limit: 10, leaseSeconds: 60, perEndpoint: 10, maxAttempts })
    expect(claimed.map((d) => [d.id, d.attempt]).sort()).toEqual(
      [
        [oneLeft.id, maxAttempts],
        [retriedByHand.id, maxAttempts + 1],
      ].sort(),
    )
    const [dead] = await deliveries([used.id])
    expect(dead).toMatchObject({ status: 'dead', attempt_count: maxAttempts, leased: false, last_error: abandonedError, attempts: [] })
    expect(await claimDueDeliveries(database(), { limit: 10, leaseSeconds: 60, perEndpoint: 10, maxAttempts })).toEqual([])
  })
})
