// What at-least-once delivery must survive, with real processes and a real receiver: a receiver that is down
// for a while, a dispatcher killed mid-batch, and two dispatchers sharing one queue.
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { database } from '../../functions/_core/db.ts'
import { startDispatcher } from '../../functions/webhooks/dispatcher.ts'
import { createDataset } from '../harness/datasets.ts'
import { startWorkerProcess } from '../harness/processes.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { createEndpoint, webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite()

/** A tenant whose receiver is subscribed to row inserts, and `count` rows inserted: that many deliveries. */
async function queueDeliveries(count: number, r: { url: string }): Promise<{ endpointId: string }> {
  const t = await createTenant()
  const { id: endpointId } = await createEndpoint(t, { url: r.url, events: ['dataset.row.created'] })
  const { id } = await createDataset(t)
  await serviceSql()`select agentry.insert_dataset_rows(${id}, (select jsonb_agg(jsonb_build_object('n', g) order by g) from
    generate_series(1, ${count}) g))`
  return { endpointId }
}

async function deliveriesOf(endpointId: string) {
  return serviceSql()<{ id: string; status: string; attempt_count: number; event_id: string }[]>`
    select id, status, attempt_count, event_id from agentry.webhook_deliveries where endpoint_id = ${endpointId}`
}

async function allDelivered(endpointId: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const rows = await deliveriesOf(endpointId)
    if (rows.length > 0 && rows.every((d) => d.status === 'delivered')) return rows
    if (Date.now() > until) throw new Error(`not all delivered: ${JSON.stringify(rows.map((d) => [d.status, d.attempt_count]))}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The inode of the socket on this machine from local port `port` to `serverPort` (Linux: /proc/net/tcp and tcp6). */
function clientSocket(port: number, serverPort: number): string | undefined {
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      const portOf = (address: string) => parseInt(address.split(':')[1], 16)
      if (fields.length > 9 && portOf(fields[1]) === port && portOf(fields[2]) === serverPort) return fields[9]
    }
  }
  return undefined
}

/** The inodes of the sockets process `pid` holds open. */
function socketsOf(pid: number): Set<string> {
  const inodes = new Set<string>()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`)
      if (target.startsWith('socket:[')) inodes.add(target.slice(8, -1))
    } catch {
      // The descriptor closed while being read.
    }
  }
  return inodes
}

describe('at-least-once delivery', () => {
  // The one retry on the real clock, waiting out the real backoff: queue.test.ts steps the clock for the rest.
  it('delivers every event once the receiver is back, each webhook-id once after deduplication', async () => {
    const r = await suite.receiver()
    await r.down()
    const dispatcher = startDispatcher(database(), { transport: suite.transport, pollMs: 100, timeoutMs: 2000 })
    try {
      const { endpointId } = await queueDeliveries(20, r)
      const until = Date.now() + 10_000
      while ((await deliveriesOf(endpointId)).some((d) => d.status !== 'failed')) {
        if (Date.now() > until) throw new Error('the deliveries were not tried while the receiver was down')
        await new Promise((res) => setTimeout(res, 50))
      }
      await r.up()
      const rows = await allDelivered(endpointId, 15_000)
      expect(rows).toHaveLength(20)
      expect(rows.every((d) => d.attempt_count >= 2)).toBe(true)
      const ids = new Set(r.received.map((x) => x.headers['webhook-id']))
      expect(ids).toEqual(new Set(rows.map((d) => d.event_id)))
    } finally {
      await dispatcher.stop()
    }
  }, 40_000)

  it('loses nothing when a dispatcher is killed mid-batch: its deliveries are claimed again after the lease', async () => {
    const r = await suite.receiver()
    r.answer = () => ({ status: 200, delayMs: 1500 })
    const { endpointId } = await queueDeliveries(30, r)
    const settings = {
      WEBHOOK_BATCH_SIZE: '10',
      WEBHOOK_CONCURRENCY: '10',
      WEBHOOK_LEASE_SECONDS: '3',
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_POLL_MS: '100',
    }
    const first = await startWorkerProcess(suite.db.url, settings)
    await r.waitFor(5)
    await first.kill()
    const inFlight =
      await serviceSql()`select count(*)::int as n from agentry.webhook_deliveries where endpoint_id = ${endpointId} and status =
        'pending' and attempt_count = 1`
    expect(inFlight[0].n).toBeGreaterThan(0)
    r.answer = () => ({ status: 200 })
    // The next dispatcher's clock is already past every lease the first one took (3 s, from before the kill):
    // the leases run out on the clock, not in a wait.
    const second = await startWorkerProcess(suite.db.url, { ...settings, AGENTRY_TEST_CLOCK_OFFSET_MS: '3500' })
    try {
      const rows = await allDelivered(endpointId, 30_000)
      expect(rows).toHaveLength(30)
      expect(rows.filter((d) => d.attempt_count === 2).length).toBe(inFlight[0].n)
      expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set(rows.map((d) => d.event_id)))
    } finally {
      await second.stop()
    }
  }, 60_000)

  it('never lets two dispatchers POST the same attempt of a delivery, while both deliver a share', async () => {
    // A receiver that reads /proc for every request answers slowly on a busy machine: a timeout that long
    // can only mean a lost request, never a slow one.
    const settings = { WEBHOOK_BATCH_SIZE: '20', WEBHOOK_POLL_MS: '50', WEBHOOK_TIMEOUT_MS: '60000' }
    const workers = await Promise.all([startWorkerProcess(suite.db.url, settings), startWorkerProcess(suite.db.url, settings)])
    // Each POST is put down to the worker process whose socket sent it; answers take a little while, so
    // that the work spreads over many claims and both workers, running before anything is queued, race for it.
    const received: { attempt: string; worker: number | undefined }[] = []
    const server = http.createServer((req, res) => {
      const worker = workers.findIndex((w) => socketsOf(w.pid).has(clientSocket(req.socket.remotePort!, req.socket.localPort!) ?? ''))
      received.push({
        attempt: `${req.headers['x-agentry-delivery-id']}#${req.headers['x-agentry-attempt']}`,
        worker: worker >= 0 ? worker : undefined,
      })
      req.resume()
      req.on('end', () => setTimeout(() => res.writeHead(200).end('ok'), 20))
    })
    // Idle connections stay open longer than a busy machine may leave one unused, so that a dispatcher reusing
    // one is not reset and made to try again.
    server.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { endpointId } = await queueDeliveries(300, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks` })
      const rows = await allDelivered(endpointId, 30_000)
      expect(rows).toHaveLength(300)
      const retried = await serviceSql()`select a.error, a.latency_ms from agentry.webhook_attempts a
        where a.endpoint_id = ${endpointId} and a.error is not null`
      expect(retried, 'failed attempts').toEqual([])
      expect(rows.every((d) => d.attempt_count === 1)).toBe(true)
      expect(received).toHaveLength(300)
      expect(new Set(received.map((r) => r.attempt)).size).toBe(300)
      const shares = [0, 1].map((w) => received.filter((r) => r.worker === w).length)
      expect(received.filter((r) => r.worker === undefined)).toEqual([])
      expect(shares[0] + shares[1]).toBe(300)
      expect(Math.min(...shares), `shares ${shares.join(' and ')}`).toBeGreaterThan(0)
    } finally {
      await Promise.all(workers.map((w) => w.stop()))
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }, 60_000)
})
