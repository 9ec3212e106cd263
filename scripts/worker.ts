// `npm run worker`: the webhook dispatcher and the job runner as a process of their own, beside any number of
// others (they share the queues through FOR UPDATE SKIP LOCKED). Needs DATABASE_URL. Settings: JOB_CONCURRENCY
// (4), JOB_POLL_MS (1000), WEBHOOK_ALLOW_PRIVATE (false),
// WEBHOOK_BATCH_SIZE (100), WEBHOOK_CONCURRENCY (50), WEBHOOK_ENDPOINT_CONCURRENCY (10),
// WEBHOOK_ENDPOINT_BURST (50), WEBHOOK_TIMEOUT_MS (15000), WEBHOOK_LEASE_SECONDS (timeout + 60),
// WEBHOOK_POLL_MS (1000). SIGTERM or SIGINT finish the requests in flight and give running jobs back, then stop.
import { closeDatabase, database } from '../functions/_core/db.ts'
import { readEnv } from '../functions/_core/env.ts'
import { startJobRunner } from '../functions/_core/jobs/runner.ts'
import { privateNetworksAllowed } from '../functions/_core/outbound.ts'
import { jobHandlers } from '../functions/jobs.ts'
import { startDispatcher } from '../functions/webhooks/dispatcher.ts'
import { nodeTransport } from './lib/node-transport.ts'

const usage = `Usage: npm run worker

Delivers webhooks and runs background jobs (knowledge indexing, …) from the database's queues until SIGTERM
or SIGINT, beside any number of other workers.

  DATABASE_URL                   the database whose webhooks to deliver (or SUPABASE_DB_URL); required
  JOB_CONCURRENCY                jobs running at once (4); each organisation's plan caps its own
  JOB_POLL_MS                    how often to look for due jobs besides the queue's notices (1000)
  WEBHOOK_ALLOW_PRIVATE          deliver to private and loopback addresses too (false)
  WEBHOOK_BATCH_SIZE             deliveries claimed at once (100)
  WEBHOOK_CONCURRENCY            requests in flight (50)
  WEBHOOK_ENDPOINT_CONCURRENCY   requests in flight to one endpoint (10)
  WEBHOOK_ENDPOINT_BURST         to an endpoint that is the only one with work waiting (50)
  WEBHOOK_TIMEOUT_MS             one request's time limit (15000)
  WEBHOOK_LEASE_SECONDS          how long a claimed delivery is this worker's (timeout + 60)
  WEBHOOK_POLL_MS                how often to look for due work besides the queue's notices (1000)`

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(usage)
  process.exit(0)
}

const number = (name: string) => {
  const value = readEnv(name)
  if (value === undefined) return undefined
  const n = Number(value)
  if (!(n > 0)) throw new Error(`${name} must be a positive number`)
  return n
}

if (!readEnv('DATABASE_URL') && !readEnv('SUPABASE_DB_URL')) {
  console.error('worker: set DATABASE_URL to the database whose webhooks to deliver')
  process.exit(1)
}

const allowPrivate = privateNetworksAllowed(readEnv)
const dispatcher = startDispatcher(database(), {
  transport: nodeTransport({ allowPrivate }),
  batchSize: number('WEBHOOK_BATCH_SIZE'),
  concurrency: number('WEBHOOK_CONCURRENCY'),
  endpointConcurrency: number('WEBHOOK_ENDPOINT_CONCURRENCY'),
  endpointBurst: number('WEBHOOK_ENDPOINT_BURST'),
  timeoutMs: number('WEBHOOK_TIMEOUT_MS'),
  leaseSeconds: number('WEBHOOK_LEASE_SECONDS'),
  pollMs: number('WEBHOOK_POLL_MS'),
  onError: (error) => console.error('worker:', error instanceof Error ? error.message : error),
})
const jobs = startJobRunner(database(), {
  handlers: jobHandlers,
  concurrency: number('JOB_CONCURRENCY'),
  pollMs: number('JOB_POLL_MS'),
  onError: (error) => console.error('jobs:', error instanceof Error ? error.message : error),
})

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  await Promise.all([dispatcher.stop(), jobs.stop()])
  await closeDatabase()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
// Announced once a signal would stop the worker cleanly: whoever waits for these lines may stop it at once.
console.log(`webhook dispatcher running (pid ${process.pid}${allowPrivate ? ', private networks allowed' : ''})`)
console.log(`job runner running (${Object.keys(jobHandlers).join(', ') || 'no job kinds yet'})`)
