// Where jobs run outside the tests' own runners: the Supabase worker function under the real Deno binary (as
// pg_cron calls it through pg_net), and `npm run worker`, which runs a job runner beside the dispatcher.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { enqueueJobFor } from '../../../functions/_core/jobs/queue.ts'
import { type DenoEntry, startDenoEntry } from '../../harness/deno.ts'
import { createTenant, isolateDatabase, serviceSql } from '../../harness/tenants.ts'
import { storedJob } from './helpers.ts'

const secret = 'worker-test-secret'
let db: Awaited<ReturnType<typeof isolateDatabase>>
let entry: DenoEntry

const invoke = (authorization?: string) =>
  fetch(`${entry.origin}/`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } })

beforeAll(async () => {
  db = await isolateDatabase()
  entry = await startDenoEntry('supabase/functions/worker/index.ts', { DATABASE_URL: db.url, JOB_WORKER_SECRET: secret }, (at) =>
    fetch(at, { method: 'POST' }),
  )
}, 120_000)

afterAll(async () => {
  await entry?.stop()
  await db?.drop()
})

describe('the worker function under Deno', () => {
  it('refuses a caller without the worker secret, with a wrong one, or with one of the same length', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${secret.slice(0, -1)}X`, secret]) {
      const res = await invoke(authorization)
      expect(res.status, String(authorization)).toBe(401)
      expect(await res.json()).toEqual({
        error: { message: 'Send the worker secret as "Authorization: Bearer <JOB_WORKER_SECRET>".', code: 'unauthorized' },
      })
    }
  })

  it('runs a batch for its caller, claiming only the kinds the product has', async () => {
    const t = await createTenant()
    const id = await enqueueJobFor(serviceSql(), t.org.id, 'test.unknown_kind', {})
    const res = await invoke(`Bearer ${secret}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ data: { claimed: 0 } })
    expect(await storedJob(id)).toMatchObject({ status: 'queued', attempt: 0 })
  })
})

describe('npm run worker', () => {
  it('runs a job runner beside the dispatcher and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    // A signal name instead of a code says the process died of it rather than stopping cleanly.
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
    let output = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('job runner running')) resolve()
      })
      void exited.then((code) => reject(new Error(`worker exited with code ${code}: ${output}`)))
    })
    expect(output).toContain('webhook dispatcher running')
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })
})
