// The webhooks part of `npm run bench`: dispatch throughput to a receiver on loopback with one and with two
// dispatchers (`npm run worker` processes), and trigger-to-delivery latency (from the statement that changes
// a row to the receiver reading the event).
import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type postgres from 'postgres'
import { generateSecret } from '../../functions/webhooks/signing.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface WebhookFigures {
  throughput: { dispatchers: number; deliveries: number; seconds: number; per_second: number }[]
  latency: { events: number; p50_ms: number; p99_ms: number; max_ms: number }
}

export async function benchWebhooks(sql: postgres.Sql, databaseUrl: string, orgId: string, deliveries: number): Promise<WebhookFigures> {
  const arrivals = new Map<number, number>()
  let received = 0
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received++
      const n = (JSON.parse(Buffer.concat(chunks).toString()) as { data: { row: { n: number } } }).data.row.n
      arrivals.set(n, performance.now())
      res.end('ok')
    })
  })
  receiver.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`
  const [dataset] = await sql<{ id: string }[]>`insert into agentry.datasets (org_id, name) values (${orgId}, 'Bench events') returning id`
  await sql`insert into agentry.webhook_endpoints (org_id, url, events, secret) values (${orgId}, ${url},
    '{dataset.row.created}', ${generateSecret()})`

  // Counted on the queue's own partial index, so that watching the run costs it little; a delivery that went
  // dead ends the wait too, and the receiver's count below then says so.
  const pendingCount = async () =>
    (await sql<{ n: number }[]>`select count(*)::int as n from agentry.webhook_deliveries where status in ('pending', 'failed')`)[0].n
  let next = 1
  const queue = async (count: number) => {
    await sql`select agentry.insert_dataset_rows(${dataset.id}, (select jsonb_agg(jsonb_build_object('n', g) order by g) from
      generate_series(${next}::int, ${next + count - 1}::int) g))`
    next += count
  }

  try {
    const throughput: WebhookFigures['throughput'] = []
    for (const dispatchers of [1, 2]) {
      await queue(deliveries)
      const workers = await Promise.all(Array.from({ length: dispatchers }, () => startWorker(databaseUrl)))
      // From the moment they run (their start-up, a TypeScript loader's, is not dispatching).
      const start = performance.now()
      while ((await pendingCount()) > 0) await new Promise((r) => setTimeout(r, 20))
      const seconds = (performance.now() - start) / 1000
      await Promise.all(workers.map(stopWorker))
      throughput.push({ dispatchers, deliveries, seconds: Math.round(seconds * 1000) / 1000, per_second: Math.round(deliveries / seconds) })
    }

    // One dispatcher idle and listening; events made one statement at a time.
    const worker = await startWorker(databaseUrl)
    const latencies: number[] = []
    const events = 200
    for (let i = 0; i < events; i++) {
      const n = next
      const t0 = performance.now()
      await queue(1)
      while (!arrivals.has(n)) await new Promise((r) => setImmediate(r))
      latencies.push(arrivals.get(n)! - t0)
      await new Promise((r) => setTimeout(r, 10))
    }
    await stopWorker(worker)
    latencies.sort((a, b) => a - b)
    const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] * 100) / 100
    if (received < deliveries * 2 + events) throw new Error(`the receiver got ${received} deliveries, expected ${deliveries * 2 + events}`)
    return { throughput, latency: { events, p50_ms: at(0.5), p99_ms: at(0.99), max_ms: at(1) } }
  } finally {
    receiver.closeAllConnections()
    await new Promise((resolve) => receiver.close(resolve))
  }
}

async function startWorker(databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, WEBHOOK_ALLOW_PRIVATE: 'true' },
    stdio: ['ignore', 'pipe', 2],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('dispatcher running') && resolve())
    child.once('exit', (code) => reject(new Error(`the worker exited (code ${code}) before running`)))
  })
  return child
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}
