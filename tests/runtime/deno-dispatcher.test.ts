// The webhook dispatcher's Supabase Edge Function entry under the real Deno binary, as pg_cron would invoke
// it through pg_net: it delivers due webhooks with the Deno transport, and only for a caller with its secret.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../../scripts/lib/embedded-postgres.ts'
import { startReceiver, type Receiver } from '../harness/receiver.ts'
import { createTenant, isolateDatabase } from '../harness/tenants.ts'
import { createDelivery } from '../harness/webhooks.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const secret = 'dispatcher-test-secret'

let db: Awaited<ReturnType<typeof isolateDatabase>>
let deno: ChildProcess
let denoDir: string
let url: string
let receiver: Receiver
let output = ''

beforeAll(async () => {
  db = await isolateDatabase()
  receiver = await startReceiver()
  denoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-deno-dir-'))
  const port = await freePort()
  url = `http://127.0.0.1:${port}/`
  deno = spawn(
    path.join(root, 'node_modules', '.bin', 'deno'),
    ['run', '--cached-only', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'supabase/functions/webhook-dispatcher/index.ts'],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DENO_DIR: denoDir, DATABASE_URL: db.url, PORT: String(port), WEBHOOK_DISPATCHER_SECRET: secret, WEBHOOK_ALLOW_PRIVATE: 'true', NO_COLOR: '1' },
    },
  )
  deno.stdout?.on('data', (chunk) => (output += chunk))
  deno.stderr?.on('data', (chunk) => (output += chunk))
  const deadline = Date.now() + 60_000
  for (;;) {
    if (deno.exitCode !== null) throw new Error(`deno exited with code ${deno.exitCode}:\n${output}`)
    const answered = await fetch(url, { method: 'POST' }).then(() => true, () => false)
    if (answered) break
    if (Date.now() > deadline) throw new Error(`the dispatcher did not answer:\n${output}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}, 90_000)

afterAll(async () => {
  if (deno && deno.exitCode === null && deno.signalCode === null) {
    const exited = new Promise((resolve) => deno.once('exit', resolve))
    deno.kill('SIGTERM')
    await exited
  }
  await receiver?.close()
  if (denoDir) fs.rmSync(denoDir, { recursive: true, force: true })
  await db?.drop()
})

describe('the webhook dispatcher function under Deno', () => {
  it('refuses a caller without the dispatcher secret', async () => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer wrong' } })
    expect(res.status).toBe(401)
  })

  it('delivers what is due, signed, and says how many', async () => {
    const t = await createTenant()
    await createDelivery(t, { url: receiver.url })
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}` } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ data: { dispatched: 1 } })
    expect(receiver.received).toHaveLength(1)
    const [request] = receiver.received
    expect(request.headers['webhook-signature']).toMatch(/^v1,/)
    expect(JSON.parse(request.body)).toMatchObject({ type: 'webhook.test', org_id: t.org.id })
  })
})
