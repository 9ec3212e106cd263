// What bounds a stream: a slow consumer is ended (and resumes), and one organisation's many streams do not
// keep another's from connecting.
import http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { closeClients, openSocket, openSse } from './clients.ts'

// Small enough to reach in a test: 256 KiB of backlog, behind for 2 s, 5 streams per organisation.
process.env.EVENT_STREAM_BACKLOG_BYTES = String(256 * 1024)
process.env.EVENT_STREAM_SLOW_MS = '2000'
process.env.EVENT_STREAMS_PER_ORG = '5'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterEach(closeClients)
afterAll(async () => {
  await api?.close()
})

/** `count` rows of about 20 kB each, inserted in one statement: as many events. */
async function insertLargeRows(datasetId: string, count: number) {
  await serviceSql()`
    select agentry.insert_dataset_rows(${datasetId},
      (select jsonb_agg(jsonb_build_object('n', g, 'pad', repeat('x', 20000))) from generate_series(1, ${count}) g))`
}

/** An SSE request whose client reads nothing until `resume` is called. */
function pausedStream(url: string, key: string): Promise<{ resume(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } }, (res) => {
      res.pause()
      resolve({
        resume: () =>
          new Promise((done) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk) => (text += chunk))
            res.on('end', () => done(text))
            res.resume()
          }),
      })
    })
    req.on('error', reject)
  })
}

function parse(text: string) {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) => block.match(new RegExp(`^${name}: ?(.*)$`, 'm'))?.[1]
      return { event: field('event'), id: field('id'), data: JSON.parse(field('data')!) }
    })
}

describe('a slow consumer', () => {
  it('gets the events already queued, a final error event, and the rest when it resumes with Last-Event-ID', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const slow = await pausedStream(`${api.base}/events/stream`, key)
    // About 12 MB: more than the socket buffers take, so the server's backlog fills and stays full.
    await insertLargeRows(dataset.id, 600)
    await new Promise((resolve) => setTimeout(resolve, 4_000))

    const received = parse(await slow.resume())
    const last = received.at(-1)!
    expect(last.event).toBe('error')
    expect(last.data.error.code).toBe('slow_consumer')
    expect(last.data.error.message).toMatch(/Last-Event-ID/)
    const events = received.slice(0, -1)
    expect(events.length).toBeGreaterThan(0)
    expect(events.length).toBeLessThan(600)
    expect(events.map((e) => e.data.data.row.n)).toEqual(events.map((_, i) => i + 1))

    const resumed = await openSse(`${api.base}/events/stream`, key, { 'last-event-id': events.at(-1)!.id! })
    const rest = await resumed.waitFor(600 - events.length, 30_000)
    expect(rest.map((e) => e.data.data.row.n)).toEqual(rest.map((_, i) => events.length + i + 1))
    expect(rest.at(-1)!.data.data.row.n).toBe(600)
  }, 60_000)

  it('on a WebSocket is closed with 1013 and a reason', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const ws = await openSocket(`${api.base}/events/ws`, key)
    ws.send({ type: 'subscribe' })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'subscribed'))
    const socket = (ws.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket
    socket.pause()
    await insertLargeRows(dataset.id, 600)
    // Long enough to be ended; the close frame waits behind what the socket holds, so read it all.
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    socket.resume()
    expect(await ws.closed).toEqual({ code: 1013, reason: 'slow consumer: subscribe again with the last event id received' })
    const events = ws.frames.filter((f) => f.type === 'event')
    expect(events.length).toBeLessThan(600)
    expect(events.map((f) => f.event.data.row.n)).toEqual(events.map((_, i) => i + 1))
  }, 60_000)
})

describe('the cap on streams per organisation', () => {
  it("refuses one organisation's stream past its cap with 429, while another's still connects and receives promptly", async () => {
    const busy = await createTenant()
    const busyKey = await busy.key()
    const streams = []
    for (let i = 0; i < 5; i++) streams.push(await openSse(`${api.base}/events/stream`, busyKey))
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200, 200, 200])
    const refused = await api.call('GET', '/events/stream', { key: busyKey })
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('too_many_concurrent_requests')
    expect(refused.headers.get('retry-after')).toBe('5')
    const socket = await openSocket(`${api.base}/events/ws`, busyKey)
    socket.send({ type: 'subscribe' })
    const [frame] = await socket.waitFor((f) => f.length > 0)
    expect(frame).toMatchObject({ type: 'error', error: { code: 'too_many_concurrent_requests' } })

    const calm = await createTenant()
    const calmKey = await calm.key()
    const dataset = await createDataset(calm)
    const stream = await openSse(`${api.base}/events/stream`, calmKey)
    expect(stream.status).toBe(200)
    const inserted = Date.now()
    await serviceSql()`select agentry.insert_dataset_rows(${dataset.id}, '[{"n": 1}]')`
    const [event] = await stream.waitFor(1)
    expect(event.data.data.row.n).toBe(1)
    expect(Date.now() - inserted).toBeLessThan(2_000)

    // A stream closed gives its place back.
    streams[0].close()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const again = await openSse(`${api.base}/events/stream`, busyKey)
    expect(again.status).toBe(200)
  })
})
