// `npm run bench`: what authentication, the rate limit and RLS cost. Loads GET /agent/api-keys of the real API
// (key check, rate limit and usage counters, then the query in a tenant transaction under RLS) and a bare
// route running the same SQL with none of that, side by side in one server, and prints JSON lines: the
// machine, each measured round, each route's median, the ratios against the targets, the server's memory.
// BENCH_SECONDS sets each measurement's length (default 10), BENCH_ROUNDS the rounds per route (default 2);
// DATABASE_URL, if set, is used instead of a fresh embedded Postgres and must hold no organisations (the
// bare route lists every key in the database).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import { build } from 'esbuild'
import postgres from 'postgres'
import { issueKey } from '../functions/keys/issue-key.ts'
import { revokeKey } from '../functions/keys/queries.ts'
import { createAgent, createOrganisation } from './lib/admin.ts'
import { freePort, startLocalPostgres, type LocalPostgres } from './lib/embedded-postgres.ts'
import { applyMigrations } from './lib/migrations.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const serverFile = fileURLToPath(new URL('./lib/bench-server.ts', import.meta.url))

const settings = {
  seconds: positive('BENCH_SECONDS', 10),
  warmupSeconds: 2,
  // Routes alternate (bare, authenticated, bare, …) and each route's median is reported, so that drift on
  // a small machine weighs on both alike.
  rounds: positive('BENCH_ROUNDS', 2),
  connections: 20,
  poolSize: positive('DATABASE_POOL_SIZE', 10),
}
const targets = { throughput_ratio_min: 0.75, p99_ratio_max: 1.3, rss_mb_max: 200 }

// autocannon ships no type declarations; this is the part of its API used here.
interface LoadResult { duration: number; '2xx': number; non2xx: number; errors: number; timeouts: number }
interface LoadRun extends PromiseLike<LoadResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): this
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string
  headers: Record<string, string>
  connections: number
  duration: number
}) => LoadRun

type RouteName = 'bare' | 'authenticated'
interface Target { route: RouteName; url: string; headers: Record<string, string> }
interface Measurement { rps: number; p50_ms: number; p99_ms: number; non2xx: number; errors: number }

const cleanups: (() => Promise<void>)[] = []

async function main(): Promise<number> {
  const database = await openDatabase()
  const sql = postgres(database.url, { max: 1, onnotice: () => {} })
  cleanups.push(() => sql.end())

  const [{ version }] = await sql<{ version: string }[]>`select version()`
  const cpus = os.cpus()
  line({
    bench: 'machine',
    cpu_model: cpus[0]?.model ?? 'unknown',
    cpu_count: cpus.length,
    total_memory_mb: Math.round(os.totalmem() / 2 ** 20),
    os: `${os.platform()} ${os.release()}`,
    node: process.version,
    postgres: version,
    settings: {
      seconds: settings.seconds,
      warmup_seconds: settings.warmupSeconds,
      rounds: settings.rounds,
      connections: settings.connections,
      pool_size: settings.poolSize,
    },
  })

  const seeded = await seed(sql)
  if (database.external) cleanups.push(async () => void (await sql`delete from agentry.organisations where id = ${seeded.orgId}`))

  const server = await startServer(database.url)
  cleanups.push(() => stopServer(server.child))
  const routes: Target[] = [
    { route: 'bare', url: `${server.base}/bare/keys`, headers: {} },
    {
      route: 'authenticated',
      url: `${server.base}/functions/v1/api/v1/agent/api-keys`,
      headers: { authorization: `Bearer ${seeded.key}` },
    },
  ]
  const rows = await checkSameData(routes)

  const memory = sampleMemory(server.child.pid!)
  const rounds: Record<RouteName, Measurement[]> = { bare: [], authenticated: [] }
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of routes) {
      await load(target, settings.warmupSeconds)
      const m = await load(target, settings.seconds)
      rounds[target.route].push(m)
      line({ bench: 'round', round, route: target.route, ...rounded(m) })
    }
  }
  const rss = memory.stop()

  const bare = medianOf(rounds.bare)
  const authenticated = medianOf(rounds.authenticated)
  line({ bench: 'route', route: 'bare', ...rounded(bare), rows_per_response: rows })
  line({ bench: 'route', route: 'authenticated', ...rounded(authenticated), rows_per_response: rows })
  const throughputRatio = authenticated.rps / bare.rps
  const p99Ratio = authenticated.p99_ms / bare.p99_ms
  line({
    bench: 'ratio',
    throughput_ratio: round3(throughputRatio),
    p99_ratio: round3(p99Ratio),
    targets,
    met: {
      throughput_ratio: throughputRatio >= targets.throughput_ratio_min,
      p99_ratio: p99Ratio <= targets.p99_ratio_max,
      rss_mb: rss.peakMb <= targets.rss_mb_max,
    },
  })
  line({
    bench: 'memory',
    server_peak_rss_mb: rss.peakMb,
    sampled_peak_rss_mb: rss.sampledPeakMb,
    rss_before_load_mb: rss.beforeLoadMb,
  })

  // Refused or failed requests are cheaper than real ones and would flatter the numbers: the run is void.
  const failed = [...rounds.bare, ...rounds.authenticated].some((m) => m.non2xx > 0 || m.errors > 0)
  if (failed) console.error('bench: some requests were not answered with 2xx; the numbers above do not measure the route')
  return failed ? 1 : 0
}

/** A fresh embedded Postgres in a temporary folder, or DATABASE_URL when set; migrated either way. */
async function openDatabase(): Promise<{ url: string; external: boolean }> {
  let url = process.env.DATABASE_URL
  const external = Boolean(url)
  if (!url) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-bench-'))
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }))
    // As root, Postgres runs as a user of its own, which must be able to create its data folder in here.
    fs.chmodSync(dir, 0o777)
    const pg: LocalPostgres = await startLocalPostgres({ dataDir: path.join(dir, 'data') })
    cleanups.push(() => pg.stop())
    url = pg.url
  }
  await applyMigrations(url)
  return { url, external }
}

/**
 * One organisation (the only one, so the bare route's unfiltered query returns exactly what RLS lets the
 * organisation see) with two agents, the bench's full-access key and twenty more keys of mixed kinds.
 */
async function seed(sql: postgres.Sql): Promise<{ orgId: string; key: string }> {
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int as count from agentry.organisations`
  if (count > 0) throw new Error(`the database already holds ${count} organisation(s); the bench needs one with none`)

  const org = await createOrganisation(sql, { name: 'Bench organisation', rateLimitPerMinute: 100_000_000 })
  const agents = [await createAgent(sql, { orgId: org.id, name: 'support-bot' }), await createAgent(sql, { orgId: org.id, name: 'research-bot' })]
  const bench = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'bench', scopes: ['*'], expiresAt: null })

  const scopeSets = [['*:read'], ['keys:read', 'keys:write'], ['chat:write', 'conversations:read'], ['datasets:read', 'runs:write', 'judges:read']]
  const inAMonth = new Date(Date.now() + 30 * 86_400_000).toISOString()
  for (let i = 0; i < 20; i++) {
    const agent = i % 3 === 0 ? null : agents[i % 2]
    const key = await issueKey(sql, {
      orgId: org.id,
      agentId: agent?.id ?? null,
      mode: agent ? (i % 4 === 1 ? 'test' : 'live') : null,
      name: `${agent?.name ?? 'backend'} key ${i + 1}`,
      scopes: scopeSets[i % scopeSets.length],
      expiresAt: i % 5 === 4 ? inAMonth : null,
    })
    if (i % 7 === 6) await revokeKey(sql, key.id)
  }
  return { orgId: org.id, key: bench.key }
}

/**
 * The server is compiled to plain JavaScript first, so the memory measured is the server's and not the
 * TypeScript loader's (about 50 MB), as in production where no loader runs.
 */
async function compileServer(): Promise<string> {
  const outfile = path.join(root, 'node_modules', '.cache', 'agentry-bench', 'bench-server.mjs')
  await build({ entryPoints: [serverFile], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' })
  return outfile
}

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort()
  // Node itself runs the compiled file, so the pid is the server's.
  const child = spawn(process.execPath, [await compileServer()], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(settings.poolSize), PORT: String(port) },
    // The server's output goes to stderr: stdout carries the results.
    stdio: ['ignore', 2, 2, 'ipc'],
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the bench server did not start within 60 s')), 60_000)
    child.once('message', () => {
      clearTimeout(timer)
      resolve()
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the bench server exited (code ${code}) before listening`))
    })
  })
  return { child, base: `http://127.0.0.1:${port}` }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

/** Both routes must answer the same rows, or the comparison means nothing. Returns the row count. */
async function checkSameData(routes: Target[]): Promise<number> {
  const answers: unknown[] = []
  // The authenticated request first: it bumps its key's usage counters, which the bare request then reads.
  for (const target of [...routes].reverse()) {
    const response = await fetch(target.url, { headers: target.headers })
    if (response.status !== 200) throw new Error(`${target.route}: ${response.status} ${await response.text()}`)
    answers.push(((await response.json()) as { data: unknown }).data)
  }
  const [authenticated, bare] = answers
  if (!isDeepStrictEqual(authenticated, bare)) {
    throw new Error(`the routes answer different data:\n authenticated ${JSON.stringify(authenticated)}\n bare ${JSON.stringify(bare)}`)
  }
  if (!Array.isArray(bare) || bare.length !== 21) throw new Error(`expected the 21 seeded keys, got ${JSON.stringify(bare)}`)
  return bare.length
}

async function load(target: Target, seconds: number): Promise<Measurement> {
  // Latencies are taken from each response rather than from autocannon's histogram, which keeps whole
  // milliseconds only: too coarse for a 1.3× ratio between latencies of a few milliseconds.
  const latencies: number[] = []
  const run = autocannon({ url: target.url, headers: target.headers, connections: settings.connections, duration: seconds })
  run.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms)
  })
  const result = await run
  const sorted = Float64Array.from(latencies).sort()
  return {
    rps: result['2xx'] / result.duration,
    p50_ms: percentile(sorted, 0.5),
    p99_ms: percentile(sorted, 0.99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

/** The server's resident memory: the kernel's high-water mark, and VmRSS sampled every 100 ms under load. */
function sampleMemory(pid: number) {
  const read = (field: 'VmRSS' | 'VmHWM') => {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1])
    return Math.round((kb / 1024) * 10) / 10
  }
  const beforeLoadMb = read('VmRSS')
  let sampledPeakMb = beforeLoadMb
  const timer = setInterval(() => (sampledPeakMb = Math.max(sampledPeakMb, read('VmRSS'))), 100)
  return {
    stop: () => {
      clearInterval(timer)
      // The kernel keeps RSS in per-CPU counters, so a sample can read a little above VmHWM.
      return { peakMb: Math.max(read('VmHWM'), sampledPeakMb), sampledPeakMb, beforeLoadMb }
    },
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

function medianOf(ms: Measurement[]): Measurement {
  return {
    rps: median(ms.map((m) => m.rps)),
    p50_ms: median(ms.map((m) => m.p50_ms)),
    p99_ms: median(ms.map((m) => m.p99_ms)),
    non2xx: ms.reduce((sum, m) => sum + m.non2xx, 0),
    errors: ms.reduce((sum, m) => sum + m.errors, 0),
  }
}

function rounded(m: Measurement) {
  return { rps: Math.round(m.rps), p50_ms: round3(m.p50_ms), p99_ms: round3(m.p99_ms), non2xx: m.non2xx, errors: m.errors }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000
}

function line(record: Record<string, unknown>) {
  process.stdout.write(JSON.stringify(record) + '\n')
}

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!(value > 0)) throw new Error(`${name} must be a positive number`)
  return value
}

async function cleanUp() {
  for (const step of cleanups.splice(0).reverse()) {
    await step().catch((error) => console.error('bench: cleanup:', error instanceof Error ? error.message : error))
  }
}

process.on('SIGINT', () => void cleanUp().finally(() => process.exit(130)))

main()
  .catch((error) => {
    console.error('bench:', error instanceof Error ? error.message : error)
    return 1
  })
  .then(async (code) => {
    await cleanUp()
    process.exit(code)
  })
