// A stream outlives the request that admitted it: its credential is asked again every STREAM_RECHECK_MS
// (watchCredential), and a key revoked, expired or stripped of the route's scope ends every stream it holds
// open, saying why. Real API, real SSE and WebSocket clients, keys revoked through the API.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'
import { closeClients, openSocket, openSse } from '../events/clients.ts'

let drop: () => Promise<void>
let api: TestApi
const recheckMs = 100

beforeAll(async () => {
  // A database of its own: no other file's job runner executes the runs queued here, so their streams stay open.
  drop = (await isolateDatabase()).drop
  process.env.STREAM_RECHECK_MS = String(recheckMs)
  api = await startApi()
})
afterEach(closeClients)
afterAll(async () => {
  delete process.env.STREAM_RECHECK_MS
  await api?.close()
  await drop?.()
})

async function revokeThroughApi(admin: string, keyId: string) {
  const res = await api.call('DELETE', `/agent/api-keys/${keyId}`, { key: admin })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
}

describe('a stream whose credential stops admitting it', () => {
  it('GET /events/stream keeps a valid key streaming, and ends with an error event once the key is revoked', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const { key, id } = await t.keyWithId({ scopes: ['webhooks:read', 'datasets:write'] })
    const dataset = await createDataset(t)
    const sse = await openSse(`${api.base}/events/stream?types=dataset.row.created`, key)
    expect(sse.status).toBe(200)
    // Several rechecks pass while the key is valid: the stream still delivers.
    await new Promise((resolve) => setTimeout(resolve, recheckMs * 5))
    const inserted = await api.call('POST', `/datasets/${dataset.id}/rows`, { key, body: { name: 'Ada' } })
    expect(inserted.status).toBe(201)
    expect((await sse.waitFor(1))[0].event).toBe('dataset.row.created')

    const revokedAt = Date.now()
    await revokeThroughApi(admin, id)
    await sse.ended
    expect(Date.now() - revokedAt).toBeLessThan(5_000)
    expect(sse.events.at(-1)).toEqual({
      event: 'error',
      data: { error: { code: 'unauthorized', message: 'This API key has been revoked.' } },
    })
  })

  it('GET /events/ws sends an error frame and closes with 1008 once the key is revoked', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const { key, id } = await t.keyWithId({ scopes: ['webhooks:read'] })
    const ws = await openSocket(`${api.base}/events/ws`, key)
    ws.send({ type: 'subscribe' })
    await ws.waitFor((frames) => frames.some((f) => f.type === 'subscribed'))
    await revokeThroughApi(admin, id)
    const closed = await ws.closed
    expect(closed.code).toBe(1008)
    expect(ws.frames.at(-1)).toEqual({ type: 'error', error: { code: 'unauthorized', message: 'This API key has been revoked.' } })
  })

  it("GET /runs/{id}/events ends with an error event when the key expires, or loses the route's scope", async () => {
    const t = await createTenant()
    const expiring = await t.key({ scopes: ['runs:read', 'runs:write'], expiresAt: new Date(Date.now() + 1_500) })
    const narrowed = await t.keyWithId({ scopes: ['runs:read', 'runs:write'] })
    const trigger = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key: narrowed.key, body: { message: 'Wait for me' } })
    expect(trigger.status).toBe(202)
    const runId = trigger.body.data.id

    const toExpire = await openSse(`${api.base}/runs/${runId}/events`, expiring)
    const toNarrow = await openSse(`${api.base}/runs/${runId}/events`, narrowed.key)
    expect([toExpire.status, toNarrow.status]).toEqual([200, 200])
    await toNarrow.waitFor(1)
    await serviceSql()`update agentry.api_keys set scopes = ${['runs:write']} where id = ${narrowed.id}`

    await toNarrow.ended
    expect(toNarrow.events.map((e) => e.event)).toEqual(['run.queued', 'error'])
    expect(toNarrow.events[1].data).toEqual({
      error: { code: 'insufficient_scope', message: 'This API key lacks the required scope "runs:read".' },
    })
    await toExpire.ended
    expect(toExpire.events.map((e) => e.event)).toEqual(['run.queued', 'error'])
    expect(toExpire.events[1].data).toEqual({
      error: { code: 'unauthorized', message: expect.stringMatching(/^This API key expired at /) },
    })
  })
})
