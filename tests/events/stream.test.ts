// The live event stream end to end: real API processes, real clients on SSE (fetch) and WebSocket (`ws`),
// events raised by writes through another process than the one streaming them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { callApi, startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { startApiProcess, type ApiProcess } from '../harness/processes.ts'
import { createTenant } from '../harness/tenants.ts'
import { closeClients, openSocket, openSse } from './clients.ts'

let api: TestApi
let other: ApiProcess
beforeAll(async () => {
  api = await startApi()
  other = await startApiProcess()
})
afterEach(closeClients)
afterAll(async () => {
  await other?.stop()
  await api?.close()
})

/** Inserts a row through the other API process; resolves once it has committed (the 201 came back). */
async function insertRow(key: string, datasetId: string, row: Record<string, unknown>): Promise<string> {
  const res = await callApi(other.base, 'POST', `/datasets/${datasetId}/rows`, { key, body: row })
  expect(res.status, JSON.stringify(res.body)).toBe(201)
  return res.body.data[0].id
}

describe('GET /events/stream and /events/ws', () => {
  it('both show a row inserted through another API process, as webhooks deliver it, within moments of its commit', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const sse = await openSse(`${api.base}/events/stream?types=dataset.row.created`, key)
    expect(sse.status).toBe(200)
    const ws = await openSocket(`${api.base}/events/ws`, key)
    ws.send({ type: 'subscribe', types: ['dataset.row.*'] })
    await ws.waitFor((frames) => frames.some((f) => f.type === 'subscribed'))

    const committed = Date.now()
    const rowId = await insertRow(key, dataset.id, { name: 'Ada' })
    const [received] = await sse.waitFor(1)
    const sseLatency = Date.now() - committed
    const frames = await ws.waitFor((f) => f.some((frame) => frame.type === 'event'))
    const wsLatency = Date.now() - committed

    expect(received.event).toBe('dataset.row.created')
    expect(received.id).toMatch(/^\d+-\d+$/)
    expect(received.data).toMatchObject({
      type: 'dataset.row.created',
      org_id: t.org.id,
      data: { dataset_id: dataset.id, row: { id: rowId, name: 'Ada' } },
    })
    expect(Object.keys(received.data).sort()).toEqual(['created_at', 'data', 'id', 'org_id', 'type'])
    const event = frames.find((f) => f.type === 'event')
    expect(event).toEqual({ type: 'event', id: received.id, event: received.data })
    // 100 ms is the aim (npm run bench measures it); a shared test machine gets a wide margin.
    expect(sseLatency).toBeLessThan(5_000)
    expect(wsLatency).toBeLessThan(5_000)
    sse.close()
    ws.close()
  })

  it('gives a client that reconnects with Last-Event-ID exactly the events it missed, in order', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const first = await openSse(`${api.base}/events/stream`, key)
    await insertRow(key, dataset.id, { n: 1 })
    const [one] = await first.waitFor(1)
    first.close()

    await insertRow(key, dataset.id, { n: 2 })
    await insertRow(key, dataset.id, { n: 3 })
    const again = await openSse(`${api.base}/events/stream`, key, { 'last-event-id': one.id! })
    await again.waitFor(2)
    await insertRow(key, dataset.id, { n: 4 })
    await again.waitFor(3)
    // Nothing more comes: no event twice.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(again.events.map((e) => e.data.data.row.n)).toEqual([2, 3, 4])
    expect(new Set(again.events.map((e) => e.id)).size).toBe(3)
    again.close()

    const socket = await openSocket(`${api.base}/events/ws`, key)
    socket.send({ type: 'subscribe', last_event_id: again.events[0].id })
    const frames = await socket.waitFor((f) => f.filter((frame) => frame.type === 'event').length >= 2)
    expect(frames.filter((f) => f.type === 'event').map((f) => f.event.data.row.n)).toEqual([3, 4])
    socket.close()
  })

  it("never shows an agent key another agent's events", async () => {
    const t = await createTenant()
    const orgKey = await t.key()
    const mine = await createDataset(t, { agent: 'agent' })
    const theirs = await createDataset(t, { agent: 'otherAgent' })
    const agentKey = await t.key({ agent: 'agent' })
    const sse = await openSse(`${api.base}/events/stream`, agentKey)
    const ws = await openSocket(`${api.base}/events/ws`, agentKey)
    ws.send({ type: 'subscribe' })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'subscribed'))
    const everything = await openSse(`${api.base}/events/stream`, orgKey)

    await insertRow(orgKey, theirs.id, { whose: 'theirs' })
    await insertRow(orgKey, mine.id, { whose: 'mine' })
    await everything.waitFor(2)
    await sse.waitFor(1)
    await ws.waitFor((f) => f.some((frame) => frame.type === 'event'))
    await new Promise((resolve) => setTimeout(resolve, 300))

    expect(everything.events.map((e) => e.data.data.row.whose)).toEqual(['theirs', 'mine'])
    expect(sse.events.map((e) => e.data.data.row.whose)).toEqual(['mine'])
    expect(ws.frames.filter((f) => f.type === 'event').map((f) => f.event.data.row.whose)).toEqual(['mine'])
    // Resuming from the other agent's event (an id it never saw) gives what came after that is its own.
    const resumed = await openSse(`${api.base}/events/stream?close_after=1`, agentKey, { 'last-event-id': everything.events[0].id! })
    await resumed.ended
    expect(resumed.events.map((e) => e.data.data.row.whose)).toEqual(['mine'])
    for (const client of [sse, ws, everything]) client.close()
  })

  it('sends only the types and the inbox asked for', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const keysOnly = await openSse(`${api.base}/events/stream?types=api_key.*`, key)
    const oneInbox = await openSse(`${api.base}/events/stream?inbox_id=${crypto.randomUUID()}`, key)
    await insertRow(key, dataset.id, { name: 'not a key' })
    const created = await callApi(other.base, 'POST', '/agent/api-keys', { key, body: { name: 'streamed', scopes: ['agents:read'] } })
    expect(created.status).toBe(201)
    const [event] = await keysOnly.waitFor(1)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(keysOnly.events.map((e) => e.event)).toEqual(['api_key.created'])
    expect(event.data.data.key.id).toBe(created.body.data.id)
    expect(JSON.stringify(event.data)).not.toContain(created.body.data.key)
    expect(oneInbox.events).toEqual([])
    keysOnly.close()
    oneInbox.close()
  })

  it('stops sending after unsubscribe, and says why it cannot take a frame', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const ws = await openSocket(`${api.base}/events/ws`, key)
    ws.send({ type: 'subscribe', types: ['no.such.type'] })
    ws.send('not json' as never)
    ws.send({ type: 'subscribe' })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'subscribed'))
    expect(ws.frames[0]).toMatchObject({ type: 'error', error: { code: 'validation_failed' } })
    expect(ws.frames[0].error.message).toMatch(/event types/)
    await insertRow(key, dataset.id, { n: 1 })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'event'))
    ws.send({ type: 'unsubscribe' })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'unsubscribed'))
    await insertRow(key, dataset.id, { n: 2 })
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(ws.frames.filter((f) => f.type === 'event').map((f) => f.event.data.row.n)).toEqual([1])
    ws.close()
  })

  it('answers a WebSocket route asked without an upgrade with 426, and a bad Last-Event-ID with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    const plain = await api.call('GET', '/events/ws', { key })
    expect(plain.status).toBe(426)
    expect(plain.body.error.code).toBe('upgrade_required')
    const bad = await api.call('GET', '/events/stream', { key, headers: { 'last-event-id': 'yesterday' } })
    expect(bad.status).toBe(400)
    expect(JSON.stringify(bad.body)).toMatch(/Last-Event-ID/)
    const badTypes = await api.call('GET', '/events/stream?types=dataset.nothing', { key })
    expect(badTypes.status).toBe(400)
  })
})
