// Deliveries end to end: changes made through the API become events, a dispatcher (the real one, with the
// Node transport) POSTs them to a real receiver on loopback, and the delivery log tells what happened.
import crypto from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { database } from '../../functions/_core/db.ts'
import { pruneDeliveryLog, startDispatcher, type RunningDispatcher } from '../../functions/webhooks/dispatcher.ts'
import { createDataset } from '../harness/datasets.ts'
import type { Received, Receiver } from '../harness/receiver.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createEndpoint, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite({ api: true })
const { api } = suite
let dispatcher: RunningDispatcher

beforeAll(() => {
  dispatcher = startDispatcher(database(), {
    transport: suite.transport,
    timeoutMs: 1000,
    pollMs: 100,
    onError: (e) => console.error('dispatcher', e),
  })
})
afterAll(() => dispatcher.stop())

/** Subscribes the receiver; by default to row inserts only, so that keys the test makes send nothing. */
async function subscribe(t: Tenant, r: Receiver, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await api.call('POST', '/webhooks', { key: await t.key(), body: { url: r.url, events: ['dataset.row.created'], ...body } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return { id: res.body.data.id, secret: res.body.data.secret }
}

const envelope = (r: Received) => JSON.parse(r.body) as { id: string; type: string; created_at: string; org_id: string; data: any }

/** Waits until the delivery reaches one of `statuses`, and returns it as the API shows it. */
async function settled(key: string, deliveryId: string, statuses: string[], timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const res = await api.call('GET', `/webhooks/deliveries/${deliveryId}`, { key })
    const d = res.body.data
    if (statuses.includes(d?.status) && d.attempts.at(-1)?.attempt === d.attempt_count) return d
    if (Date.now() > until) throw new Error(`delivery ${deliveryId} is ${JSON.stringify(res.body.data)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const deliveryOf = (r: Received) => r.headers['x-agentry-delivery-id'] as string

describe('delivering events', () => {
  it('POSTs a dataset row change signed both ways: the standardwebhooks library and our HMAC both verify it', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    const { secret } = await subscribe(t, r, { events: ['dataset.row.*'] })
    const { id: datasetId } = await createDataset(t)
    const key = await t.key()
    const before = Date.now()
    await api.call('POST', `/datasets/${datasetId}/rows`, { key, body: { name: 'Ada' } })
    await r.waitFor(1)
    const [request] = r.received
    const payload = new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as any
    expect(payload).toMatchObject({ type: 'dataset.row.created', org_id: t.org.id, data: { dataset_id: datasetId, row: { name: 'Ada' } } })
    expect(Object.keys(payload)).toEqual(['id', 'type', 'created_at', 'org_id', 'data'])
    expect(request.headers['webhook-id']).toBe(payload.id)
    const ms = request.headers['x-agentry-timestamp'] as string
    expect(Math.abs(Number(ms) - Date.now())).toBeLessThan(10_000)
    const expected = crypto.createHmac('sha256', secret).update(`${ms}.${request.body}`).digest('hex')
    expect(request.headers['x-agentry-signature']).toBe(`v1=${expected}`)
    expect(request.headers['x-agentry-attempt']).toBe('1')
    const delivery = await settled(key, deliveryOf(request), ['delivered'])
    expect(delivery).toMatchObject({ status: 'delivered', attempt_count: 1, last_status_code: 200, last_error: null, next_retry_at: null })
    // From the event to its delivery: no less than the event took to reach the receiver, no more than this test waited.
    const [event] = await serviceSql()<{ created_at: Date }[]>`select created_at from agentry.events where id = ${payload.id}`
    expect(delivery.delivery_latency_ms).toBeGreaterThanOrEqual(request.at - event.created_at.getTime() - 1)
    expect(delivery.delivery_latency_ms).toBeLessThanOrEqual(Date.now() - before + 1)
    // The answer that first verifies the endpoint is not shown (delivery-redaction.test.ts shows when answers are).
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error: null, response_body: null })])
  })

  it('sends row updates with the previous row, deletes, and the key events', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    await subscribe(t, r, { events: ['dataset.row.updated', 'dataset.row.deleted', 'api_key.*'] })
    const { id: datasetId } = await createDataset(t, { rows: [{ n: 1 }] })
    const key = await t.key()
    await api.call('PATCH', `/datasets/${datasetId}/rows?n=eq.1`, { key, body: { n: 2 } })
    await api.call('DELETE', `/datasets/${datasetId}/rows?n=eq.2`, { key })
    const created = await api.call('POST', '/agent/api-keys', { key, body: { name: 'ci' } })
    const rotated = await api.call('POST', `/agent/api-keys/${created.body.data.id}/rotate`, { key })
    await api.call('DELETE', `/agent/api-keys/${rotated.body.data.id}`, { key })
    await r.waitFor(6)
    const events = r.received.map(envelope).sort((a, b) => a.created_at.localeCompare(b.created_at))
    const types = events.map((e) => e.type)
    expect(types).toEqual(
      expect.arrayContaining(['dataset.row.updated', 'dataset.row.deleted', 'api_key.created', 'api_key.rotated', 'api_key.revoked']),
    )
    const updated = events.find((e) => e.type === 'dataset.row.updated')!
    expect(updated.data).toMatchObject({ dataset_id: datasetId, row: { n: 2 }, previous: { n: 1 } })
    const rotatedEvent = events.find((e) => e.type === 'api_key.rotated')!
    expect(rotatedEvent.data.key).toMatchObject({ id: rotated.body.data.id, rotated_from: created.body.data.id })
    expect(JSON.stringify(events)).not.toContain('key_hash')
    expect(JSON.stringify(events)).not.toContain(rotated.body.data.key)
  })

  it('sends an endpoint only the events it subscribes to, passing its filters, of its agent', async () => {
    const t = await createTenant()
    const a = await createDataset(t)
    const b = await createDataset(t)
    const mine = await createDataset(t, { agent: 'agent' })
    const filtered = await suite.receiver()
    const agents = await suite.receiver()
    const { id: filteredId } = await subscribe(t, filtered, { events: ['dataset.row.created'], filters: { dataset_id: a.id } })
    const agentEndpoint = await api.call('POST', '/webhooks', {
      key: await t.key({ agent: 'agent' }),
      body: { url: agents.url, events: ['dataset.*'] },
    })
    expect(agentEndpoint.status).toBe(201)
    const key = await t.key()
    for (const d of [a, b, mine]) await api.call('POST', `/datasets/${d.id}/rows`, { key, body: { at: d.id } })
    await api.call('PATCH', `/datasets/${a.id}/rows?at=not.is.null`, { key, body: { touched: true } })
    // Deliveries are queued in the transaction that makes the change: these are all there will ever be.
    const queued = await serviceSql()<{ endpoint_id: string }[]>`
      select endpoint_id from agentry.webhook_deliveries where endpoint_id in (${filteredId}, ${agentEndpoint.body.data.id})`
    expect(queued.map((d) => d.endpoint_id).sort()).toEqual([filteredId, agentEndpoint.body.data.id].sort())
    await filtered.waitFor(1)
    await agents.waitFor(1)
    expect(filtered.received.map((x) => [envelope(x).type, envelope(x).data.dataset_id])).toEqual([['dataset.row.created', a.id]])
    expect(agents.received.map((x) => envelope(x).data.dataset_id)).toEqual([mine.id])
  })

  it('signs with both secrets for a day after a rotation', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    const { id, secret: old } = await subscribe(t, r)
    const key = await t.key()
    const rotated = await api.call('POST', `/webhooks/${id}/rotate-secret`, { key })
    await api.call('POST', `/webhooks/${id}/test`, { key })
    await r.waitFor(1)
    const [request] = r.received
    expect((request.headers['webhook-signature'] as string).split(' ')).toHaveLength(2)
    expect((request.headers['x-agentry-signature'] as string).split(',')).toHaveLength(2)
    for (const secret of [old, rotated.body.data.secret]) {
      expect(new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' })
    }
    await serviceSql()`update agentry.webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${id}`
    await api.call('POST', `/webhooks/${id}/test`, { key })
    await r.waitFor(2)
    const later = r.received[1]
    expect((later.headers['webhook-signature'] as string).split(' ')).toHaveLength(1)
    expect(() => new Webhook(old).verify(later.body, later.headers as Record<string, string>)).toThrow()
  })
})

describe('receivers that do not answer 2xx', () => {
  async function testDelivery(answer: Receiver['answer']) {
    const t = await createTenant()
    const r = await suite.receiver()
    r.answer = answer
    const { id } = await subscribe(t, r)
    const key = await t.key()
    const res = await api.call('POST', `/webhooks/${id}/test`, { key })
    await r.waitFor(1)
    return { t, r, key, endpointId: id, deliveryId: res.body.data.delivery_id as string }
  }

  it("retries a 500 after about 5 s, and keeps the answer's first 2 KB for the operator", async () => {
    const { key, deliveryId } = await testDelivery(() => ({ status: 500, body: 'x'.repeat(5000) }))
    const d = await settled(key, deliveryId, ['failed'])
    expect(d).toMatchObject({ status: 'failed', attempt_count: 1, last_status_code: 500, last_error: 'Receiver answered 500' })
    // 5 s ±20 % after the attempt ended, whenever the test looks.
    const ended = Date.parse(d.attempts[0].started_at) + d.attempts[0].latency_ms
    const wait = Date.parse(d.next_retry_at) - ended
    expect(wait).toBeGreaterThanOrEqual(4000 - 1)
    expect(wait).toBeLessThanOrEqual(6000 + 1)
    expect(d.attempts[0].response_body).toBeNull()
    const [attempt] = await serviceSql()<
      { response_body: string }[]
    >`select response_body from agentry.webhook_attempts where delivery_id = ${deliveryId}`
    expect(attempt.response_body).toHaveLength(2048)
  })

  it('honours a longer Retry-After', async () => {
    const { key, deliveryId } = await testDelivery(() => ({ status: 503, headers: { 'retry-after': '120' } }))
    const d = await settled(key, deliveryId, ['failed'])
    expect(Date.parse(d.next_retry_at) - Date.now()).toBeGreaterThan(110_000)
  })

  it('does not follow a redirect', async () => {
    const { key, deliveryId } = await testDelivery(() => ({ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } }))
    const d = await settled(key, deliveryId, ['failed'])
    expect(d.last_error).toBe('Redirect (302) not followed')
  })

  it('gives a slow receiver until the timeout, then retries', async () => {
    const { key, deliveryId } = await testDelivery(() => ({ status: 200, delayMs: 3000 }))
    const d = await settled(key, deliveryId, ['failed'])
    expect(d.last_error).toBe('No answer within 1000 ms')
    expect(d.last_status_code).toBeNull()
    expect(d.attempts[0].latency_ms).toBeGreaterThanOrEqual(1000)
  })

  it("disables an endpoint that answers 410 Gone at once, and tells the organisation's other endpoints", async () => {
    const t = await createTenant()
    const witness = await suite.receiver()
    await subscribe(t, witness)
    const r = await suite.receiver()
    r.answer = () => ({ status: 410 })
    const { id: endpointId } = await subscribe(t, r)
    const key = await t.key()
    const deliveryId = (await api.call('POST', `/webhooks/${endpointId}/test`, { key })).body.data.delivery_id
    expect(await settled(key, deliveryId, ['dead'])).toMatchObject({ status: 'dead', last_status_code: 410 })
    const endpoint = await api.call('GET', `/webhooks/${endpointId}`, { key })
    expect(endpoint.body.data).toMatchObject({ enabled: false, disabled_reason: 'gone' })
    await witness.waitFor(1)
    expect(envelope(witness.received[0])).toMatchObject({
      type: 'webhook.endpoint.disabled',
      data: { endpoint_id: endpointId, reason: 'gone', url: r.url },
    })
  })

  it('gives up after the last retry: the delivery is dead', async () => {
    const { key, deliveryId } = await testDelivery(() => ({ status: 500 }))
    await settled(key, deliveryId, ['failed'])
    await serviceSql()`update agentry.webhook_deliveries set attempt_count = 10, next_attempt_at = now() where id = ${deliveryId}`
    const d = await settled(key, deliveryId, ['dead'])
    expect(d).toMatchObject({ attempt_count: 11, next_retry_at: null })
  })
})

describe('the delivery log', () => {
  it('lists deliveries newest first by status and endpoint, pages them, retries one and reports health', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    let failing = true
    r.answer = () => (failing ? { status: 500 } : { status: 200 })
    const { id: endpointId } = await subscribe(t, r)
    const key = await t.key()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await api.call('POST', `/webhooks/${endpointId}/test`, { key })).body.data.delivery_id)
    await r.waitFor(3)
    for (const id of ids) await settled(key, id, ['failed'])
    const page1 = await api.call('GET', `/webhooks/deliveries?status=failed&endpoint_id=${endpointId}&limit=2`, { key })
    expect(page1.body.data.map((d: { id: string }) => d.id)).toEqual([ids[2], ids[1]])
    expect(page1.body.has_more).toBe(true)
    const page2 = await api.call(
      'GET',
      `/webhooks/deliveries?status=failed&endpoint_id=${endpointId}&limit=2&cursor=${page1.body.next_cursor}`,
      { key },
    )
    expect(page2.body.data.map((d: { id: string }) => d.id)).toEqual([ids[0]])
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null })

    const unhealthy = await api.call('GET', '/webhooks/health', { key })
    expect(unhealthy.body.data).toEqual([
      expect.objectContaining({ endpoint_id: endpointId, state: 'failing', attempts_24h: 3, success_rate: 0, consecutive_failures: 3 }),
    ])

    failing = false
    const retried = await api.call('POST', `/webhooks/deliveries/${ids[0]}/retry`, { key })
    expect(retried.status).toBe(202)
    const d = await settled(key, ids[0], ['delivered'])
    expect(d.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 200])
    const healthy = await api.call('GET', '/webhooks/health', { key })
    expect(healthy.body.data[0]).toMatchObject({ state: 'healthy', attempts_24h: 4, success_rate: 0.25, consecutive_failures: 0 })
    // The percentiles of the four attempts' latencies, interpolated between neighbours.
    const latencies = (
      await serviceSql()<{ latency_ms: number }[]>`
        select latency_ms from agentry.webhook_attempts where endpoint_id = ${endpointId} order by latency_ms`
    ).map((a) => a.latency_ms)
    const percentile = (p: number) => {
      const at = p * (latencies.length - 1)
      const below = Math.floor(at)
      return latencies[below] + (at - below) * ((latencies[below + 1] ?? latencies[below]) - latencies[below])
    }
    expect(latencies).toHaveLength(4)
    expect(healthy.body.data[0].latency_p50_ms).toBeCloseTo(percentile(0.5), 6)
    expect(healthy.body.data[0].latency_p95_ms).toBeCloseTo(percentile(0.95), 6)
  })

  it('refuses to retry a delivery while it is being sent with 409, and leaves it as it was', async () => {
    const t = await createTenant()
    const r = await suite.receiver()
    const { id: endpointId } = await subscribe(t, r)
    const key = await t.key()
    const id = (await api.call('POST', `/webhooks/${endpointId}/test`, { key })).body.data.delivery_id
    await r.waitFor(1)
    const delivered = await settled(key, id, ['delivered'])
    // What a dispatcher holds while it sends: the delivery's lease.
    await serviceSql()`update agentry.webhook_deliveries set locked_until = now() + interval '1 hour' where id = ${id}`
    const retried = await api.call('POST', `/webhooks/deliveries/${id}/retry`, { key })
    expect(retried.status).toBe(409)
    expect(retried.body.error).toEqual({
      code: 'conflict',
      message: 'This delivery is being sent right now; retry once the attempt has ended.',
    })
    expect((await api.call('GET', `/webhooks/deliveries/${id}`, { key })).body.data).toEqual(delivered)
  })

  it('rejects a bad status, limit or cursor with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const q of ['status=lost', 'limit=0', 'limit=101', 'cursor=abc', 'endpoint_id=x']) {
      const res = await api.call('GET', `/webhooks/deliveries?${q}`, { key })
      expect(res.status, q).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
  })
})

describe("the log's history", () => {
  it('forgets events older than the retention whose deliveries have ended, and keeps the rest', async () => {
    const t = await createTenant()
    const sql = serviceSql()
    const { id: endpointId } = await createEndpoint(t, { url: 'http://127.0.0.1:9/never', enabled: false })
    // Deliveries to a disabled endpoint, so that no dispatcher claims them while the test looks.
    const event = async (ageDays: number, status: string) => {
      const [e] = await sql`insert into agentry.events (org_id, type, data, created_at)
        values (${t.org.id}, 'dataset.row.created', '{}', now() - make_interval(days => ${ageDays})) returning id`
      await sql`insert into agentry.webhook_deliveries (org_id, endpoint_id, event_id, status) values (${t.org.id},
        ${endpointId}, ${e.id}, ${status})`
      return e.id as string
    }
    const old = [await event(31, 'delivered'), await event(40, 'dead')]
    const kept = [await event(31, 'failed'), await event(2, 'delivered')]
    await pruneDeliveryLog(database(), 30)
    const left = await sql`select event_id as id from agentry.webhook_deliveries where endpoint_id = ${endpointId}`
    expect(left.map((r) => r.id).sort()).toEqual([...kept].sort())
    expect(old.every((id) => !left.some((r) => r.id === id))).toBe(true)
  })
})
