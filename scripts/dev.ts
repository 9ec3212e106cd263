// `npm start`: a real PostgreSQL (embedded, under .data/, unless DATABASE_URL is set), the migrations, a demo
// organisation and key on the first run, and the API on http://127.0.0.1:54321/functions/v1/api/v1.
// `npm run start:deno` serves the same app through the Supabase Edge Function entry under Deno.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { localDatabase, startLocalPostgres, type LocalPostgres } from './lib/embedded-postgres.ts'
import { applyMigrations } from './lib/migrations.ts'
import { describeDemoLimit, ensureDemo } from './lib/demo.ts'

const usage = `Usage: npm start            (Node)
       npm run start:deno   (the Supabase Edge Function entry, under Deno)

Starts a local PostgreSQL (embedded, in .data/postgres) unless DATABASE_URL is set, applies the migrations,
makes a demo organisation and key on the first run, and serves the API (delivering webhooks and running
background jobs) until Ctrl-C.

  DATABASE_URL    the database to use instead of the embedded one
  DB_PORT         the embedded database's port (54322)
  HOST, PORT      where the API listens (127.0.0.1, 54321)
  SMTP_PORT       where inbound mail is accepted (2525; see npm run smtp -- --help)`

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(usage)
  process.exit(0)
}

const root = fileURLToPath(new URL('..', import.meta.url))
const dataDir = path.join(root, '.data')
const useDeno = process.argv.includes('--deno')
const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 54321)
const smtpPort = Number(process.env.SMTP_PORT ?? 2525)

let postgresServer: LocalPostgres | undefined
let stopServer: (() => Promise<void>) | undefined

async function main() {
  let databaseUrl = process.env.DATABASE_URL
  if (!databaseUrl) {
    postgresServer = await startLocalPostgres({ dataDir: localDatabase.dataDir, port: localDatabase.port() })
    databaseUrl = postgresServer.url
  }
  const applied = await applyMigrations(databaseUrl)
  const demo = await ensureDemo(databaseUrl, dataDir)
  // The console's one-click sign-in with the demo key, offered only while nothing but this machine can reach the server.
  if (['127.0.0.1', 'localhost', '::1'].includes(host)) process.env.AGENTRY_CONSOLE_DEV_KEY = demo.key
  else delete process.env.AGENTRY_CONSOLE_DEV_KEY

  if (useDeno) {
    const stopDeno = await serveWithDeno(databaseUrl)
    // Deno serves the API; webhooks are delivered and jobs run from this process.
    process.env.DATABASE_URL = databaseUrl
    const dispatcher = await startLocalDispatcher()
    const jobs = await startLocalJobRunner()
    const smtp = await startLocalSmtpIngress()
    const { closeDatabase } = await import('../functions/_core/db.ts')
    stopServer = async () => {
      await stopDeno()
      await Promise.all([dispatcher.stop(), jobs.stop(), smtp.close()])
      await closeDatabase()
    }
  } else {
    stopServer = await serveWithNode(databaseUrl)
  }

  const base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/functions/v1/api/v1`
  console.log(`
  Agentry is running (${useDeno ? 'Deno' : 'Node'}).

  API          ${base}
  SMTP in      127.0.0.1:${smtpPort} (mail for the inboxes)
  Docs         ${base}/docs
  Console      ${base}/console
  OpenAPI      ${base}/openapi.json
  Database     ${databaseUrl}
  Migrations   ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}

  ${demo.created ? 'Created a demo organisation with a full-access key' : 'Demo organisation key'} (also in .data/dev-keys.json):
  ${demo.key}

  ${describeDemoLimit(demo)}

  Try:  curl -H "Authorization: Bearer ${demo.key}" ${base}/me${
    demo.dataset_id
      ? `
        curl -g -H "Authorization: Bearer ${demo.key}" "${base}/datasets/${demo.dataset_id}/rows?status=eq.active&order=score.desc"`
      : ''
  }

  Ctrl-C to stop.
`)
}

async function serveWithNode(databaseUrl: string): Promise<() => Promise<void>> {
  process.env.DATABASE_URL = databaseUrl
  const { serve } = await import('@hono/node-server')
  const { app } = await import('../functions/app.ts')
  const { closeDatabase } = await import('../functions/_core/db.ts')
  const { maxRequestHeaderBytes } = await import('../functions/_core/postgrest/parse.ts')
  // Domain verification's DNS on Node (Deno has its own): DNS_SERVER, or the system's servers.
  const { useResolver } = await import('../functions/email/domains/dns.ts')
  const { nodeResolver } = await import('./lib/node-resolver.ts')
  useResolver(nodeResolver())
  // The event stream's WebSocket route on Node.
  const { nodeWebSockets } = await import('./lib/node-websocket.ts')
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      { fetch: app.fetch, hostname: host, port, serverOptions: { maxHeaderSize: maxRequestHeaderBytes }, websocket: nodeWebSockets() },
      () => resolve(s),
    )
  })
  const dispatcher = await startLocalDispatcher()
  const jobs = await startLocalJobRunner()
  const smtp = await startLocalSmtpIngress()
  return async () => {
    await new Promise((resolve) => server.close(resolve))
    await Promise.all([dispatcher.stop(), jobs.stop(), smtp.close()])
    await closeDatabase()
  }
}

/** Webhooks are delivered from the dev server too; locally, endpoints on this machine are allowed. */
async function startLocalDispatcher() {
  process.env.WEBHOOK_ALLOW_PRIVATE ??= 'true'
  const { database } = await import('../functions/_core/db.ts')
  const { startDispatcher } = await import('../functions/webhooks/dispatcher.ts')
  const { nodeTransport } = await import('./lib/node-transport.ts')
  return startDispatcher(database(), {
    transport: nodeTransport({ allowPrivate: process.env.WEBHOOK_ALLOW_PRIVATE === 'true' }),
    onError: (error) => console.error('webhooks:', error instanceof Error ? error.message : error),
  })
}

/** Background jobs (knowledge indexing, …) run in the dev server too; stopping gives running ones back to the queue. */
async function startLocalJobRunner() {
  const { database } = await import('../functions/_core/db.ts')
  const { startJobRunner } = await import('../functions/_core/jobs/runner.ts')
  const { jobHandlers } = await import('../functions/jobs.ts')
  return startJobRunner(database(), {
    handlers: jobHandlers,
    onError: (error) => console.error('jobs:', error instanceof Error ? error.message : error),
  })
}

/** Inbound mail for the inboxes, through the same path a provider's webhook takes. */
async function startLocalSmtpIngress() {
  const { database } = await import('../functions/_core/db.ts')
  const { startSmtpIngress, tlsFromEnvironment } = await import('./lib/smtp-ingress.ts')
  return startSmtpIngress(database(), { host, port: smtpPort, tls: tlsFromEnvironment() })
}

async function serveWithDeno(databaseUrl: string): Promise<() => Promise<void>> {
  const deno = path.join(root, 'node_modules', '.bin', 'deno')
  const child: ChildProcess = spawn(
    deno,
    ['run', '--cached-only', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'supabase/functions/api/index.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: host },
    },
  )
  await waitForHttp(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/api/v1/openapi.json`, child)
  return async () => {
    child.kill('SIGTERM')
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))
  }
}

async function waitForHttp(url: string, child: ChildProcess) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`deno exited with code ${child.exitCode}`)
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the Deno server did not answer at ${url}`)
}

let stopping = false
async function shutdown(code = 0) {
  if (stopping) return
  stopping = true
  try {
    await stopServer?.()
  } finally {
    await postgresServer?.stop()
    process.exit(code)
  }
}
process.on('SIGINT', () => void shutdown())
process.on('SIGTERM', () => void shutdown())

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error)
  await shutdown(1)
})
