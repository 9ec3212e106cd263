// One tenant cannot flood the shared webhook queue: claiming is fair across organisations and endpoints and
// reads no backlog through, a slow endpoint holds only its own slots, and what is over a plan's cap
// answers clearly. Real dispatcher, Node transport, receivers on loopback.
import postgres from 'postgres'
import { beforeAll, describe, expect, it } from 'vitest'
import { database } from '../../functions/_core/db.ts'
import { startDispatcher } from '../../functions/webhooks/dispatcher.ts'
import { claimDueDeliveries } from '../../functions/webhooks/queue.ts'
import { maxAttempts } from '../../functions/webhooks/schedule.ts'
import type { Receiver } from '../harness/receiver.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createEndpoint, queueTestEvents as queue, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite({ api: true })
const { api } = suite

const receiver = (delayMs = 0): Promise<Receiver> => suite.receiver({ status: 200, body: 'ok', delayMs })

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Actual Rows': number
  'Actual Loops': number
  'Rows Removed by Filter'?: number
  Plans?: PlanNode[]
}

/** Rows the plan's scans of webhook_deliveries read, kept or filtered out. */
function deliveryRowsRead(node: PlanNode): number {
  const own =
    node['Node Type'].endsWith('Scan') && node['Relation Name'] === 'webhook_deliveries'
      ? (node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0)) * node['Actual Loops']
      : 0
  return own + (node.Plans ?? []).reduce((sum, child) => sum + deliveryRowsRead(child), 0)
}

describe('a tenant with 10,000 queued deliveries to slow endpoints', () => {
  let a: Tenant
  let slow: Receiver[]
  let b: Tenant
  let fast: Receiver
  let bEndpoint: string

  beforeAll(async () => {
    a = await createTenant()
    slow = await Promise.all([1, 2, 3, 4, 5].map(() => receiver(3000)))
    const endpoints = await Promise.all(slow.map((r) => createEndpoint(a, { url: r.url })))
    await queue(
      a,
      endpoints.map((e) => e.id),
      10_000,
    )
    b = await createTenant()
    fast = await receiver()
    bEndpoint = (await createEndpoint(b, { url: fast.url })).id
  })

  it("does not stand between another tenant's due delivery and the claim, nor is read through to reach it", async () => {
    await queue(b, [bEndpoint], 1)
    const [bDelivery] = await serviceSql()<{ id: string }[]>`select id from agentry.webhook_deliveries where endpoint_id = ${bEndpoint}`
    // The claim as the dispatcher sends it, caught on the wire, then run again under EXPLAIN ANALYZE; both
    // rolled back, so nothing stays leased.
    let claim: { query: string; parameters: unknown[] } | undefined
    const client = postgres(suite.db.url, {
      max: 1,
      onnotice: () => {},
      debug: (_, query, parameters) => {
        if (query.includes('agentry.webhook_deliveries')) claim ??= { query, parameters }
      },
    })
    try {
      const conn = await client.reserve()
      await conn`begin`
      const claimed = await claimDueDeliveries(conn, { limit: 10, leaseSeconds: 60, perEndpoint: 10, maxAttempts })
      expect(claimed.map((d) => d.id)).toContain(bDelivery.id)
      await conn`rollback`
      await conn`begin`
      const [
        {
          'QUERY PLAN': [plan],
        },
      ] = await conn.unsafe(`explain (analyze, format json) ${claim!.query}`, claim!.parameters as never[])
      await conn`rollback`
      conn.release()
      const read = deliveryRowsRead(plan.Plan)
      expect(read).toBeGreaterThan(0)
      expect(read).toBeLessThan(300)
    } finally {
      await client.end()
    }
  })

  it("still has another tenant's new event delivered within 2 s, and sends no endpoint more than 10 at once", async () => {
    const dispatcher = startDispatcher(database(), { transport: suite.transport, timeoutMs: 10_000, pollMs: 100 })
    try {
      const busy = () => slow.reduce((n, r) => n + r.inFlight, 0)
      const deadline = Date.now() + 10_000
      while (busy() < 30) {
        if (Date.now() > deadline) throw new Error(`the slow endpoints have only ${busy()} requests in flight`)
        await new Promise((r) => setTimeout(r, 50))
      }
      const before = fast.received.length
      const sent = Date.now()
      await queue(b, [bEndpoint], 1)
      await fast.waitFor(before + 1, 5000)
      expect(fast.received[before].at - sent).toBeLessThan(2000)
      for (const r of slow) expect(r.maxInFlight).toBeLessThanOrEqual(10)
      // A fifth of the dispatcher's 50 slots is kept for organisations with nothing in flight.
      expect(busy()).toBeLessThanOrEqual(41)
    } finally {
      await dispatcher.stop()
    }
  }, 40_000)
})

describe("the plan's caps", () => {
  let tiny: string

  beforeAll(async () => {
    tiny = `tiny_${crypto.randomUUID().slice(0, 8)}`
    // Room for requests in flight, so that creations at the same moment all reach the endpoint cap.
    await serviceSql()`insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests, max_webhook_endpoints,
      max_queued_deliveries_per_endpoint)
      values (${tiny}, 'Tiny', 1000000, 16, 2, 3)`
  })

  async function tenantOnTinyPlan(): Promise<Tenant> {
    const t = await createTenant()
    await serviceSql()`update agentry.organisations set plan = ${tiny} where id = ${t.org.id}`
    return t
  }

  it('answers 409 naming the cap and the plan to one endpoint more than the plan allows', async () => {
    const t = await tenantOnTinyPlan()
    const key = await t.key()
    const create = () => api.call('POST', '/webhooks', { key, body: { url: 'https://example.com/hooks', events: ['*'] } })
    const first = await create()
    expect(first.status).toBe(201)
    expect((await create()).status).toBe(201)
    const third = await create()
    expect(third.status).toBe(409)
    expect(third.body).toEqual({
      error: {
        code: 'conflict',
        message:
          'This organisation has 2 webhook endpoints, the most its plan (Tiny) allows (max_webhook_endpoints: 2). Delete one, or ' +
          'move to a plan that allows more.',
      },
    })
    expect((await api.call('DELETE', `/webhooks/${first.body.data.id}`, { key })).status).toBe(200)
    expect((await create()).status).toBe(201)
  })

  it('holds the endpoint cap when endpoints are created at the same moment', async () => {
    const t = await tenantOnTinyPlan()
    const key = await t.key()
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => api.call('POST', '/webhooks', { key, body: { url: 'https://example.com/hooks', events: ['*'] } })),
    )
    expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409, 409])
    const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.webhook_endpoints where org_id = ${t.org.id}`
    expect(n).toBe(2)
  })

  it('makes deliveries past the queued cap dead with the reason, in the delivery log, and queues again once there is room', async () => {
    const t = await tenantOnTinyPlan()
    // Subscribed to nothing the test does besides: the key it makes must not add a delivery.
    const { id: endpointId } = await createEndpoint(t, { url: 'http://127.0.0.1:9/hooks', events: ['dataset.row.created'] })
    const key = await t.key()
    await queue(t, [endpointId], 5)
    const states = async () =>
      serviceSql()<{ status: string; last_error: string | null }[]>`
        select status, last_error from agentry.webhook_deliveries where endpoint_id = ${endpointId} order by status, created_at`
    const reason =
      'Not queued: this endpoint already has 3 deliveries waiting, the most the Tiny plan allows. Retry it once the endpoint has caught up.'
    expect(await states()).toEqual([
      { status: 'dead', last_error: reason },
      { status: 'dead', last_error: reason },
      { status: 'pending', last_error: null },
      { status: 'pending', last_error: null },
      { status: 'pending', last_error: null },
    ])
    const log = await api.call('GET', `/webhooks/deliveries?endpoint_id=${endpointId}&status=dead`, { key })
    expect(log.status).toBe(200)
    expect(log.body.data).toHaveLength(2)
    // The platform's own reason carries nothing of a receiver's, so the tenant reads it as written.
    expect(log.body.data.map((d: { last_error: string }) => d.last_error)).toEqual([reason, reason])

    await serviceSql()`update agentry.webhook_deliveries set status = 'delivered'
      where id = (select id from agentry.webhook_deliveries where endpoint_id = ${endpointId} and status = 'pending' limit 1)`
    await queue(t, [endpointId], 2)
    const after = await states()
    expect(after.filter((d) => d.status === 'pending')).toHaveLength(3)
    expect(after.filter((d) => d.status === 'dead')).toHaveLength(3)
  })
})
