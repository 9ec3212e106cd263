// The events scenario of `npm run bench`: BENCH_EVENT_CLIENTS (default 1,000) SSE clients connected to GET
// /events/stream on an API server process of its own, each receiving every one of BENCH_EVENT_COUNT rows
// inserted on another connection (so each event reaches the server through LISTEN/NOTIFY, as from another
// API process). Measured: from just before each insert to each client's receipt of its event, p50/p99/max
// over all clients and events, events missed, and the server's resident memory before and with the
// clients connected (VmRSS, and the kernel's high-water mark VmHWM).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type postgres from 'postgres'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createOrganisation } from './admin.ts'
import { ensureBenchPlan } from './bench-auth.ts'
import { freePort } from './embedded-postgres.ts'

export interface EventStreamFigures {
  clients: number
  events: number
  connect_seconds: number
  latency_ms: { p50: number; p99: number; max: number }
  missed: number
  server_rss_mb: { before_clients: number; with_clients: number; peak: number }
}

const appUrl = pathToFileURL(fileURLToPath(new URL('../../functions/app.ts', import.meta.url))).href
const root = fileURLToPath(new URL('../..', import.meta.url))

/** The API alone in a process, so that the memory read is the streams'. */
async function startServer(databaseUrl: string, clients: number) {
  const port = await freePort()
  const code = [
    "import { serve } from '@hono/node-server'",
    `import { app } from ${JSON.stringify(appUrl)}`,
    "serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT) }, () => process.send('ready'))",
  ].join('\n')
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), EVENT_STREAMS_PER_ORG: String(clients + 10) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`the events bench server exited with ${code}`)))
  })
  const memory = (field: 'VmRSS' | 'VmHWM') => {
    const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')
    return Math.round((Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024) * 10) / 10
  }
  return {
    base: `http://127.0.0.1:${port}/functions/v1/api/v1`,
    memory,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** One SSE client: calls `onEvent` with each event's row number as it arrives. */
function connect(url: string, key: string, agent: http.Agent, onEvent: (n: number) => void): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`))
      res.setEncoding('utf8')
      let buffered = ''
      res.on('data', (chunk: string) => {
        buffered += chunk
        let end = buffered.indexOf('\n\n')
        while (end >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          end = buffered.indexOf('\n\n')
          const n = /"n":\s*(\d+)/.exec(block)
          if (n) onEvent(Number(n[1]))
        }
      })
      resolve(req)
    })
    req.on('error', reject)
  })
}

export async function benchEvents(sql: postgres.Sql, databaseUrl: string, clients: number, events: number): Promise<EventStreamFigures> {
  // The bench plan: up to 1,000 requests in flight, so that clients connecting together are not refused.
  const plan = await ensureBenchPlan(sql)
  const org = await createOrganisation(sql, {
    name: `Bench events ${crypto.randomUUID().slice(0, 8)}`,
    plan,
    rateLimitPerMinute: 100_000_000,
  })
  const { key } = await issueKey(sql, {
    orgId: org.id,
    agentId: null,
    mode: null,
    name: 'bench events',
    scopes: ['webhooks:read'],
    expiresAt: null,
  })
  const [dataset] = await sql<{ id: string }[]>`insert into agentry.datasets (org_id, name) values (${org.id}, 'Bench stream') returning id`
  const server = await startServer(databaseUrl, clients)
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY })
  const requests: http.ClientRequest[] = []
  try {
    const beforeClients = server.memory('VmRSS')
    // arrivals[event][client]: when each client got each event.
    const arrivals = Array.from({ length: events + 1 }, () => new Float64Array(clients))
    const started = performance.now()
    const url = `${server.base}/events/stream?types=dataset.row.created`
    for (let from = 0; from < clients; from += 50) {
      const batch = Array.from({ length: Math.min(50, clients - from) }, (_, i) =>
        connect(url, key, agent, (n) => {
          if (n <= events && !arrivals[n][from + i]) arrivals[n][from + i] = performance.now()
        }),
      )
      requests.push(...(await Promise.all(batch)))
    }
    const connectSeconds = (performance.now() - started) / 1000
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const withClients = server.memory('VmRSS')

    const inserted = new Float64Array(events + 1)
    for (let n = 1; n <= events; n++) {
      inserted[n] = performance.now()
      await sql`select agentry.insert_dataset_rows(${dataset.id}, ${sql.json([{ n }])})`
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000))

    const latencies: number[] = []
    let missed = 0
    for (let n = 1; n <= events; n++) {
      for (const at of arrivals[n]) {
        if (at) latencies.push(at - inserted[n])
        else missed++
      }
    }
    latencies.sort((a, b) => a - b)
    const at = (p: number) => Math.round((latencies[Math.max(0, Math.ceil(p * latencies.length) - 1)] ?? Number.NaN) * 10) / 10
    return {
      clients,
      events,
      connect_seconds: Math.round(connectSeconds * 10) / 10,
      latency_ms: { p50: at(0.5), p99: at(0.99), max: at(1) },
      missed,
      server_rss_mb: { before_clients: beforeClients, with_clients: withClients, peak: Math.max(server.memory('VmHWM'), withClients) },
    }
  } finally {
    for (const req of requests) req.destroy()
    agent.destroy()
    await server.stop()
  }
}
