// The runs part of `npm run bench`: BENCH_RUNS runs triggered through POST /agents/{id}/trigger and executed
// by `npm run worker` processes (the product's job runner, claiming `runs.execute`) against the loopback
// model fake, end to end: runs a second from the first trigger to the last run completed, each run's time
// from queued to completed, the share that did not complete, and the CPU a run cost each process.
import { type ChildProcess, spawn } from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import type postgres from 'postgres'
import { cpuSecondsOf, machineTicks, serverCpuSeconds } from './process-cpu.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const finished = ['completed', 'failed', 'cancelled', 'expired']

export interface RunsSettings {
  runs: number
  /** `npm run worker` processes. */
  workers: number
  /** Each worker's JOB_CONCURRENCY. */
  concurrency: number
  /** Triggers in flight at once. */
  clients: number
}

export interface RunsFigures {
  runs: number
  workers: number
  job_concurrency: number
  trigger_clients: number
  runs_per_second: number
  triggers_per_second: number
  queued_to_completed: { p50_ms: number; p99_ms: number; max_ms: number }
  not_completed_share: number
  statuses: Record<string, number>
  cpu_ms_per_run: { api: number | null; workers: number | null; database: number | null }
  /** This process's own: the triggering clients, the model fake and the polling for the end. */
  load_cpu_ms_per_run: number
  /** How much of the machine's CPU (all cores) was busy over the batch: near 1, the runs are CPU-bound. */
  machine_busy_share: number | null
  database_functions: { name: string; calls: number; self_ms_per_run: number; total_ms_per_run: number }[]
  apart: {
    runs: number
    trigger_cpu_ms_per_run: { api: number | null; database: number | null }
    execute_cpu_ms_per_run: { workers: number | null; database: number | null }
  }
  load_average: number[]
}

/** Triggers `count` runs, `clients` at a time; returns the runs' ids. */
async function triggerRuns(api: string, key: string, agentId: string, count: number, clients: number, label: string): Promise<string[]> {
  // node:http on kept-alive sockets rather than fetch: the load is made on the machine it measures, and fetch
  // cost this process about as much CPU a request as the API's whole handling of it (1.9 ms a run against 1.0).
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
  const url = new URL(`${api}/agents/${agentId}/trigger`)
  const ids: string[] = []
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: Math.min(clients, count) }, async () => {
        while (next < count) {
          const i = next++
          const sent = JSON.stringify({ message: `Summarise ticket ${i}`, metadata: { bench: label } })
          const { status, body } = await postJson(agent, url, key, sent)
          const data = (JSON.parse(body) as { data?: { id: string } }).data
          if (status !== 202 || !data) throw new Error(`POST /agents/{id}/trigger answered ${status}: ${body}`)
          ids.push(data.id)
        }
      }),
    )
  } finally {
    agent.destroy()
  }
  return ids
}

function postJson(agent: http.Agent, url: URL, key: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Waits until every run of the batch has finished (10 minutes at most). */
async function waitFinished(sql: postgres.Sql, orgId: string, label: string, count: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000
  for (;;) {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from agentry.runs
      where org_id = ${orgId} and metadata @> ${sql.json({ bench: label })} and status = any(${finished})`
    if (row.n >= count) return
    if (Date.now() > deadline) throw new Error(`only ${row.n} of ${count} runs finished within 10 minutes`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function benchRuns(
  sql: postgres.Sql,
  databaseUrl: string,
  api: string,
  key: string,
  orgId: string,
  agentId: string,
  s: RunsSettings,
  pids: { server?: number; postmaster?: number | null },
): Promise<RunsFigures> {
  // The organisation's plan must let the workers run as many of its jobs at once as they can take.
  await sql`
    update agentry.plans set max_running_jobs = ${s.workers * s.concurrency}
    where id = (select plan from agentry.organisations where id = ${orgId})`
  let workers = await Promise.all(Array.from({ length: s.workers }, () => startWorker(databaseUrl, s.concurrency)))
  try {
    await triggerRuns(api, key, agentId, 50, s.clients, 'warm-up')
    await waitFinished(sql, orgId, 'warm-up', 50)

    const cpu = (): { api: number | null; workers: number | null; database: number | null } => ({
      api: pids.server ? cpuSecondsOf(pids.server) : null,
      workers: workers.reduce<number | null>((sum, w) => {
        const c = w.pid ? cpuSecondsOf(w.pid) : null
        return sum === null || c === null ? null : sum + c
      }, 0),
      database: pids.postmaster ? serverCpuSeconds(pids.postmaster) : null,
    })
    // Where the database's time goes: each function's (triggers included) calls and own time over the batch.
    // Only where the bench may change the server's settings (its own embedded server, or a superuser's).
    const tracking = await sql`alter system set track_functions = 'all'`.then(
      () => true,
      () => false,
    )
    if (tracking) {
      await sql`select pg_reload_conf()`
      await new Promise((resolve) => setTimeout(resolve, 200))
      await sql`select pg_stat_reset()`
    }
    const machineBefore = machineTicks()
    const loadBefore = process.cpuUsage()
    const before = cpu()
    const started = performance.now()
    await triggerRuns(api, key, agentId, s.runs, s.clients, 'measured')
    const triggered = performance.now()
    await waitFinished(sql, orgId, 'measured', s.runs)
    const after = cpu()
    const load = process.cpuUsage(loadBefore)
    const machineAfter = machineTicks()
    // Statistics reach the view when each backend reports them (at most a second later).
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const functions = !tracking
      ? []
      : await sql<{ name: string; calls: number; self_ms_per_run: number; total_ms_per_run: number }[]>`
      select funcname as name, sum(calls)::int as calls,
             round((sum(self_time) / ${s.runs})::numeric, 3)::float8 as self_ms_per_run,
             round((sum(total_time) / ${s.runs})::numeric, 3)::float8 as total_ms_per_run
      from pg_stat_user_functions where schemaname = 'agentry'
      group by funcname order by sum(self_time) desc limit 15`
    if (tracking) {
      await sql`alter system reset track_functions`
      await sql`select pg_reload_conf()`
    }

    // The same work apart: triggering with no worker running, then executing what was queued. What each
    // half costs the database says whether the request or the job is the one to make cheaper.
    const half = Math.max(100, Math.round(s.runs / 4))
    await Promise.all(workers.map(stopWorker))
    const idle = cpu()
    await triggerRuns(api, key, agentId, half, s.clients, 'split')
    const queued = cpu()
    workers = await Promise.all(Array.from({ length: s.workers }, () => startWorker(databaseUrl, s.concurrency)))
    const workersStarted = cpu()
    await waitFinished(sql, orgId, 'split', half)
    const executed = cpu()
    const split = (a: number | null, b: number | null) =>
      a === null || b === null ? null : Math.round(((a - b) * 1000 * 100) / half) / 100
    const perRun = (a: number | null, b: number | null) =>
      a === null || b === null ? null : Math.round(((a - b) * 1000 * 100) / s.runs) / 100

    // The database's own clock: a run's created_at is its trigger's transaction, completed_at its finish.
    const [f] = await sql<
      { seconds: number; p50: number; p99: number; max: number; statuses: Record<string, number>; completed: number }[]
    >`
      with batch as (
        select status, created_at, completed_at from agentry.runs
        where org_id = ${orgId} and metadata @> ${sql.json({ bench: 'measured' })}
      )
      select extract(epoch from max(completed_at) - min(created_at))::float8 as seconds,
             percentile_cont(0.5) within group (order by extract(epoch from completed_at - created_at) * 1000)
               filter (where status = 'completed')::float8 as p50,
             percentile_cont(0.99) within group (order by extract(epoch from completed_at - created_at) * 1000)
               filter (where status = 'completed')::float8 as p99,
             (max(extract(epoch from completed_at - created_at)) * 1000)::float8 as max,
             (select jsonb_object_agg(status, n) from (select status, count(*)::int as n from batch group by status) g) as statuses,
             count(*) filter (where status = 'completed')::int as completed
      from batch`
    return {
      runs: s.runs,
      workers: s.workers,
      job_concurrency: s.concurrency,
      trigger_clients: s.clients,
      runs_per_second: Math.round(s.runs / f.seconds),
      triggers_per_second: Math.round(s.runs / ((triggered - started) / 1000)),
      queued_to_completed: { p50_ms: Math.round(f.p50), p99_ms: Math.round(f.p99), max_ms: Math.round(f.max) },
      not_completed_share: Math.round(((s.runs - f.completed) / s.runs) * 10_000) / 10_000,
      statuses: f.statuses,
      cpu_ms_per_run: {
        api: perRun(after.api, before.api),
        workers: perRun(after.workers, before.workers),
        database: perRun(after.database, before.database),
      },
      load_cpu_ms_per_run: Math.round(((load.user + load.system) / 1000 / s.runs) * 100) / 100,
      machine_busy_share:
        machineBefore && machineAfter
          ? Math.round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100) / 100
          : null,
      database_functions: functions,
      apart: {
        runs: half,
        trigger_cpu_ms_per_run: { api: split(queued.api, idle.api), database: split(queued.database, idle.database) },
        execute_cpu_ms_per_run: {
          workers: split(executed.workers, workersStarted.workers),
          database: split(executed.database, workersStarted.database),
        },
      },
      load_average: os.loadavg().map((l) => Math.round(l * 100) / 100),
    }
  } finally {
    await Promise.all(workers.map(stopWorker))
  }
}

async function startWorker(databaseUrl: string, concurrency: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, JOB_CONCURRENCY: String(concurrency), DATABASE_POOL_SIZE: String(concurrency + 4) },
    stdio: ['ignore', 'pipe', 2],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('job runner running') && resolve())
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
