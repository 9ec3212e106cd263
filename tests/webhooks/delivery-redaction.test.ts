// What the delivery log shows a tenant of a receiver's answer. A webhook URL is the tenant's to choose, so
// until the endpoint has answered a delivery with a 2xx, whatever answered is not shown; errors are shown
// by category only, whatever the raw text the operator keeps. Real API, real dispatcher pass with the Node
// transport, real receivers on loopback.
import { describe, expect, it } from 'vitest'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createDelivery, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite({ api: true })
const { api } = suite

/** Sends a test event to the endpoint, runs dispatcher passes until nothing is due, and returns the delivery as the API shows it. */
async function testDelivery(key: string, endpointId: string): Promise<any> {
  const sent = await api.call('POST', `/webhooks/${endpointId}/test`, { key })
  expect(sent.status, JSON.stringify(sent.body)).toBe(202)
  await suite.dispatchAllDue({ timeoutMs: 1000 })
  const res = await api.call('GET', `/webhooks/deliveries/${sent.body.data.delivery_id}`, { key })
  expect(res.body.data.attempts.length, 'the delivery was attempted').toBeGreaterThan(0)
  return res.body.data
}

async function subscribe(key: string, url: string): Promise<string> {
  const res = await api.call('POST', '/webhooks', { key, body: { url, events: ['dataset.row.created'] } })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body.data.id
}

const stored = async (deliveryId: string) =>
  serviceSql()<{ error: string | null; response_body: string | null }[]>`
    select error, response_body from agentry.webhook_attempts where delivery_id = ${deliveryId} order by id`

describe('an endpoint that has never answered 2xx', () => {
  it('shows the status and a generic error, never the body of the answer; the operator keeps both', async () => {
    const t = await createTenant()
    const key = await t.key()
    const r = await suite.receiver(() => ({ status: 500, body: '{"internal":"db-primary.internal:5432 password=hunter2"}' }))
    const d = await testDelivery(key, await subscribe(key, r.url))
    expect(d).toMatchObject({ status: 'failed', last_status_code: 500, last_error: 'Receiver answered 500' })
    expect(d.attempts).toEqual([expect.objectContaining({ status_code: 500, error: 'Receiver answered 500', response_body: null })])
    expect(await stored(d.id)).toEqual([
      { error: 'Receiver answered 500', response_body: '{"internal":"db-primary.internal:5432 password=hunter2"}' },
    ])
  })

  it('says a redirect was not followed without saying where it led', async () => {
    const t = await createTenant()
    const key = await t.key()
    const r = await suite.receiver(() => ({
      status: 302,
      headers: { location: 'http://169.254.169.254/latest/meta-data/' },
      body: 'moved',
    }))
    const d = await testDelivery(key, await subscribe(key, r.url))
    expect(d.last_error).toBe('Redirect (302) not followed')
    expect(d.attempts[0]).toMatchObject({ status_code: 302, error: 'Redirect (302) not followed', response_body: null })
    expect((await stored(d.id))[0].error).toContain('169.254.169.254')
  })

  it('says only that no connection could be made, not what the network said', async () => {
    const t = await createTenant()
    const key = await t.key()
    const d = await testDelivery(key, await subscribe(key, 'http://127.0.0.1:9/hooks'))
    expect(d).toMatchObject({ last_status_code: null, last_error: 'Could not connect to the receiver' })
    expect(d.attempts[0]).toMatchObject({ status_code: null, error: 'Could not connect to the receiver', response_body: null })
    expect((await stored(d.id))[0].error).toContain('ECONNREFUSED')
  })

  it('says how long it waited for a receiver that did not answer in time', async () => {
    const t = await createTenant()
    const key = await t.key()
    const r = await suite.receiver(() => ({ status: 200, body: 'late', delayMs: 3000 }))
    const d = await testDelivery(key, await subscribe(key, r.url))
    expect(d.attempts[0]).toMatchObject({ status_code: null, error: 'No answer within 1000 ms', response_body: null })
  })
})

describe('an endpoint verified by a 2xx answer', () => {
  it('shows the answers of attempts that started after its first 2xx, and none once its URL changes', async () => {
    const t = await createTenant()
    const key = await t.key()
    let answer = { status: 200, body: 'welcome' }
    const r = await suite.receiver(() => answer)
    const endpointId = await subscribe(key, r.url)
    const verifiedAt = async () => (await api.call('GET', `/webhooks/${endpointId}`, { key })).body.data.verified_at
    expect(await verifiedAt()).toBeNull()

    // The answer that verifies the endpoint was given before it was verified: it stays hidden.
    const first = await testDelivery(key, endpointId)
    expect(first).toMatchObject({ status: 'delivered', last_error: null })
    expect(first.attempts[0]).toMatchObject({ status_code: 200, error: null, response_body: null })
    expect(Date.parse(await verifiedAt())).toBeGreaterThan(Date.now() - 60_000)

    answer = { status: 503, body: 'busy, try later' }
    const failed = await testDelivery(key, endpointId)
    expect(failed.attempts[0]).toMatchObject({ status_code: 503, error: 'Receiver answered 503', response_body: 'busy, try later' })
    answer = { status: 200, body: 'thanks' }
    expect((await testDelivery(key, endpointId)).attempts[0]).toMatchObject({ status_code: 200, response_body: 'thanks' })

    const elsewhere = await suite.receiver(() => ({ status: 500, body: 'an internal page' }))
    const patched = await api.call('PATCH', `/webhooks/${endpointId}`, { key, body: { url: elsewhere.url } })
    expect(patched.status, JSON.stringify(patched.body)).toBe(200)
    expect(patched.body.data.verified_at).toBeNull()
    const moved = await testDelivery(key, endpointId)
    expect(moved.attempts[0]).toMatchObject({ status_code: 500, error: 'Receiver answered 500', response_body: null })
    expect(await verifiedAt()).toBeNull()
  })

  it('keeps a raw error generic even then', async () => {
    const t = await createTenant()
    const key = await t.key()
    const r = await suite.receiver(() => ({ status: 200 }))
    const endpointId = await subscribe(key, r.url)
    await testDelivery(key, endpointId)
    await r.down()
    const d = await testDelivery(key, endpointId)
    expect(d.attempts[0]).toMatchObject({ status_code: null, error: 'Could not connect to the receiver', response_body: null })
  })
})

describe('the error category', () => {
  /** Records an attempt as a dispatcher would, with the raw error and kind given, and returns what the tenant is shown. */
  async function shown(
    t: Tenant,
    attempt: { status_code: number | null; error: string | null; error_kind?: string },
  ): Promise<{ attempt: string | null; delivery: string | null }> {
    const key = await t.key()
    const delivery = await createDelivery(t)
    const sql = serviceSql()
    await sql`
      insert into agentry.webhook_attempts (delivery_id, endpoint_id, org_id, attempt, started_at, status_code, error,
        error_kind, latency_ms, response_body)
      values (${delivery.id}, ${delivery.endpointId}, ${t.org.id}, 1, now(), ${attempt.status_code}, ${attempt.error},
        ${attempt.error_kind ?? null}, 5, 'raw body')`
    await sql`
      update agentry.webhook_deliveries set status = 'failed', attempt_count = 1, last_error = ${attempt.error},
        last_status_code = ${attempt.status_code}
      where id = ${delivery.id}`
    const res = await api.call('GET', `/webhooks/deliveries/${delivery.id}`, { key })
    expect(res.body.data.attempts[0].response_body).toBeNull()
    return { attempt: res.body.data.attempts[0].error, delivery: res.body.data.last_error }
  }

  it('follows the kind the dispatcher recorded, whatever the raw text says', async () => {
    const t = await createTenant()
    const cases: [string, string][] = [
      ['blocked', 'Blocked: the address is private'],
      ['timeout', 'No answer in time'],
      ['network', 'Could not connect to the receiver'],
      ['request', 'The request failed'],
      ['something new', 'The request failed'],
    ]
    for (const [kind, text] of cases) {
      expect(await shown(t, { status_code: null, error: 'internal-api.corp:8443 said: secret', error_kind: kind }), kind).toEqual({
        attempt: text,
        delivery: text,
      })
    }
  })

  it("without a kind, reads the status code and the start of the transports' own texts", async () => {
    const t = await createTenant()
    const cases: [number | null, string, string][] = [
      [418, 'anything at all', 'Receiver answered 418'],
      [307, 'Redirect (307) to http://10.0.0.1/ not followed', 'Redirect (307) not followed'],
      [null, 'No answer within 15000 ms', 'No answer within 15000 ms'],
      [null, '10.0.0.7 is a private, loopback or link-local address; deliveries may not reach it', 'Blocked: the address is private'],
      [null, 'internal.corp resolves to a private address; deliveries may not reach it', 'Blocked: the address is private'],
      [null, 'Could not reach internal.corp:8443: ECONNREFUSED', 'Could not connect to the receiver'],
      [null, 'Request failed: something unforeseen at 10.0.0.7', 'The request failed'],
    ]
    for (const [status, error, text] of cases) {
      expect(await shown(t, { status_code: status, error }), error).toEqual({ attempt: text, delivery: text })
    }
  })
})
