import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEndpointRoute } from '../../functions/webhooks/create-endpoint.ts'
import { deleteEndpointRoute } from '../../functions/webhooks/delete-endpoint.ts'
import { endpointHealthRoute } from '../../functions/webhooks/endpoint-health.ts'
import { getDeliveryRoute } from '../../functions/webhooks/get-delivery.ts'
import { getEndpointRoute } from '../../functions/webhooks/get-endpoint.ts'
import { listDeliveriesRoute } from '../../functions/webhooks/list-deliveries.ts'
import { listEndpointsRoute } from '../../functions/webhooks/list-endpoints.ts'
import { listEventTypesRoute } from '../../functions/webhooks/list-event-types.ts'
import { recoverEndpointRoute } from '../../functions/webhooks/recover-endpoint.ts'
import { retryDeliveryRoute } from '../../functions/webhooks/retry-delivery.ts'
import { rotateSecretRoute } from '../../functions/webhooks/rotate-secret.ts'
import { testEndpointRoute } from '../../functions/webhooks/test-endpoint.ts'
import { updateEndpointRoute } from '../../functions/webhooks/update-endpoint.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createDelivery, createEndpoint } from '../harness/webhooks.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const endpointOf = (agent?: 'otherAgent') => async (t: Tenant) => ({ id: (await createEndpoint(t, { agent })).id })
const deliveryOf = (agent?: 'otherAgent') => async (t: Tenant) => ({ id: (await createDelivery(t, { agent })).id })
const body = { url: 'https://example.com/hooks', events: ['dataset.row.*'] }

describeSecurity(listEndpointsRoute, {}, () => api)
describeSecurity(createEndpointRoute, { body }, () => api)
describeSecurity(listEventTypesRoute, {}, () => api)
describeSecurity(endpointHealthRoute, {}, () => api)
describeSecurity(listDeliveriesRoute, {}, () => api)
describeSecurity(getEndpointRoute, { params: endpointOf(), otherAgentParams: endpointOf('otherAgent') }, () => api)
describeSecurity(
  updateEndpointRoute,
  { params: endpointOf(), body: { description: 'x' }, otherAgentParams: endpointOf('otherAgent') },
  () => api,
)
describeSecurity(deleteEndpointRoute, { params: endpointOf(), otherAgentParams: endpointOf('otherAgent') }, () => api)
describeSecurity(rotateSecretRoute, { params: endpointOf(), otherAgentParams: endpointOf('otherAgent') }, () => api)
describeSecurity(testEndpointRoute, { params: endpointOf(), otherAgentParams: endpointOf('otherAgent') }, () => api)
describeSecurity(
  recoverEndpointRoute,
  { params: endpointOf(), body: { since: '2026-01-01T00:00:00Z' }, otherAgentParams: endpointOf('otherAgent') },
  () => api,
)
describeSecurity(getDeliveryRoute, { params: deliveryOf(), otherAgentParams: deliveryOf('otherAgent') }, () => api)
describeSecurity(retryDeliveryRoute, { params: deliveryOf(), otherAgentParams: deliveryOf('otherAgent') }, () => api)

describe('webhook endpoints', () => {
  it('creates an endpoint and answers with its whsec_ secret once', async () => {
    const t = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', '/webhooks', {
      key,
      body: { url: 'https://example.com/hooks', events: ['dataset.row.*', 'api_key.created'], description: 'CRM sync' },
    })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({
      url: 'https://example.com/hooks',
      events: ['dataset.row.*', 'api_key.created'],
      enabled: true,
      description: 'CRM sync',
      agent_id: null,
    })
    expect(res.body.data.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(atob(res.body.data.secret.slice(6))).toHaveLength(32)
    const got = await api.call('GET', `/webhooks/${res.body.data.id}`, { key })
    expect(got.body.data).not.toHaveProperty('secret')
    expect(JSON.stringify((await api.call('GET', '/webhooks', { key })).body)).not.toContain(res.body.data.secret)
  })

  it('refuses unknown event types, bad URLs and private addresses with 400 naming the field', async () => {
    const t = await createTenant()
    const key = await t.key()
    const cases: [unknown, RegExp][] = [
      [{ url: 'https://example.com', events: ['dataset.rows.*'] }, /events\.0: No event type matches/],
      [{ url: 'https://example.com', events: [] }, /events/],
      [{ url: 'ftp://example.com', events: ['*'] }, /url/],
      [{ url: 'not a url', events: ['*'] }, /url/],
      [{ url: 'http://169.254.169.254/latest', events: ['*'] }, /private, loopback or link-local/],
      [{ url: 'https://example.com', events: ['*'], filters: { dataset_id: 'x' } }, /filters\.dataset_id/],
    ]
    for (const [b, message] of cases) {
      const res = await api.call('POST', '/webhooks', { key, body: b })
      expect(res.status, JSON.stringify(b)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toMatch(message)
    }
  })

  it('lists the event types with the JSON Schema of their data', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/webhooks/event-types', { key: await t.key() })
    const types = res.body.data.map((e: { type: string }) => e.type)
    expect(types).toEqual(
      expect.arrayContaining([
        'dataset.row.created',
        'dataset.row.updated',
        'dataset.row.deleted',
        'api_key.created',
        'api_key.revoked',
        'api_key.rotated',
        'webhook.test',
        'webhook.endpoint.disabled',
      ]),
    )
    const updated = res.body.data.find((e: { type: string }) => e.type === 'dataset.row.updated')
    expect(updated.schema).toMatchObject({ type: 'object', required: ['dataset_id', 'row', 'previous'] })
  })

  it('rotates the secret: a new one, and the old one still valid for a day', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id, secret } = await createEndpoint(t)
    const res = await api.call('POST', `/webhooks/${id}/rotate-secret`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data.secret).not.toBe(secret)
    expect(Date.parse(res.body.data.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000)
    const [row] = await serviceSql()`select previous_secret from agentry.webhook_endpoints where id = ${id}`
    expect(row.previous_secret).toBe(secret)
  })

  it("disables and re-enables by hand, and an agent key's endpoint belongs to its agent", async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createEndpoint(t)
    const off = await api.call('PATCH', `/webhooks/${id}`, { key, body: { enabled: false } })
    expect(off.body.data).toMatchObject({ enabled: false, disabled_reason: 'manual' })
    const on = await api.call('PATCH', `/webhooks/${id}`, { key, body: { enabled: true, events: ['api_key.*'] } })
    expect(on.body.data).toMatchObject({ enabled: true, disabled_reason: null, events: ['api_key.*'] })
    const agentKey = await t.key({ agent: 'agent' })
    const mine = await api.call('POST', '/webhooks', { key: agentKey, body: { url: 'https://example.com/a', events: ['*'] } })
    expect(mine.body.data.agent_id).toBe(t.agent.id)
    const listed = await api.call('GET', '/webhooks', { key: agentKey })
    expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([mine.body.data.id])
  })

  it('queues a test event to the endpoint alone, and recovers failed deliveries since a time', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await createEndpoint(t, { events: ['dataset.row.*'] })
    const other = await createEndpoint(t, { events: ['*'] })
    const res = await api.call('POST', `/webhooks/${id}/test`, { key })
    expect(res.status).toBe(202)
    const detail = await api.call('GET', `/webhooks/deliveries/${res.body.data.delivery_id}`, { key })
    expect(detail.body.data).toMatchObject({
      endpoint_id: id,
      event_type: 'webhook.test',
      status: 'pending',
      attempt_count: 0,
      attempts: [],
    })
    expect(detail.body.data.event.data).toMatchObject({ endpoint_id: id })
    const [{ n }] = await serviceSql()`select count(*)::int as n from agentry.webhook_deliveries where endpoint_id = ${other.id}`
    expect(n).toBe(0)
    await serviceSql()`update agentry.webhook_deliveries set status = 'dead', attempt_count = 11 where id = ${res.body.data.delivery_id}`
    const recovered = await api.call('POST', `/webhooks/${id}/recover`, {
      key,
      body: { since: new Date(Date.now() - 60_000).toISOString() },
    })
    expect(recovered.body).toEqual({ data: { queued: 1 } })
    const after = await api.call('GET', `/webhooks/deliveries/${res.body.data.delivery_id}`, { key })
    expect(after.body.data.status).toBe('pending')
    const none = await api.call('POST', `/webhooks/${id}/recover`, { key, body: { since: new Date(Date.now() + 60_000).toISOString() } })
    expect(none.body).toEqual({ data: { queued: 0 } })
  })
})
