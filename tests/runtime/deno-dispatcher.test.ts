// The webhook dispatcher's Supabase Edge Function entry under the real Deno binary, as pg_cron would invoke
// it through pg_net: it delivers due webhooks with the Deno transport, and only for a caller with its secret.
// The Deno transport connects to the very address its SSRF guard checked, and verifies TLS for the URL's
// name on that connection.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDenoEntry, type DenoEntry } from '../harness/deno.ts'
import { startReceiver, type Receiver } from '../harness/receiver.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'
import { createDelivery } from '../harness/webhooks.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const secret = 'dispatcher-test-secret'

let db: Awaited<ReturnType<typeof isolateDatabase>>
let entry: DenoEntry
let guarded: DenoEntry
let receiver: Receiver

const dispatch = (at: DenoEntry, authorization?: string) =>
  fetch(`${at.origin}/`, { method: 'POST', headers: authorization === undefined ? {} : { authorization } })

beforeAll(async () => {
  db = await isolateDatabase()
  receiver = await startReceiver()
  const env = { DATABASE_URL: db.url, WEBHOOK_DISPATCHER_SECRET: secret }
  const ready = (at: string) => fetch(at, { method: 'POST' })
  ;[entry, guarded] = await Promise.all([
    startDenoEntry('supabase/functions/webhook-dispatcher/index.ts', { ...env, WEBHOOK_ALLOW_PRIVATE: 'true' }, ready),
    startDenoEntry('supabase/functions/webhook-dispatcher/index.ts', { ...env, WEBHOOK_ALLOW_PRIVATE: 'false' }, ready),
  ])
}, 120_000)

afterAll(async () => {
  await entry?.stop()
  await guarded?.stop()
  await receiver?.close()
  await db?.drop()
})

describe('the webhook dispatcher function under Deno', () => {
  it('refuses a caller without the dispatcher secret, with a wrong one, or with one of the same length', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${secret.slice(0, -1)}X`, secret]) {
      const res = await dispatch(entry, authorization)
      expect(res.status, String(authorization)).toBe(401)
      expect((await res.json()).error.code).toBe('unauthorized')
    }
  })

  it('delivers what is due, signed, and says how many', async () => {
    const t = await createTenant()
    await createDelivery(t, { url: receiver.url })
    const res = await dispatch(entry, `Bearer ${secret}`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ data: { dispatched: 1 } })
    expect(receiver.received).toHaveLength(1)
    const [request] = receiver.received
    expect(request.headers['webhook-signature']).toMatch(/^v1,/)
    expect(JSON.parse(request.body)).toMatchObject({ type: 'webhook.test', org_id: t.org.id })
  })

  it('delivers to a host name at the address it resolved to, with the name as Host', async () => {
    const t = await createTenant()
    const port = new URL(receiver.url).port
    const { id } = await createDelivery(t, { url: `http://localhost:${port}/hooks?from=deno` })
    const before = receiver.received.length
    expect((await dispatch(entry, `Bearer ${secret}`)).status).toBe(200)
    expect(receiver.received).toHaveLength(before + 1)
    expect(receiver.received.at(-1)!.headers.host).toBe(`localhost:${port}`)
    const [delivery] = await serviceSql()<{ status: string }[]>`select status from agentry.webhook_deliveries where id = ${id}`
    expect(delivery.status).toBe('delivered')
  })

  it('refuses, where private networks are not allowed, a name that resolves to loopback, before connecting', async () => {
    const t = await createTenant()
    const port = new URL(receiver.url).port
    const { id } = await createDelivery(t, { url: `http://localhost:${port}/hooks` })
    const before = receiver.received.length
    expect((await dispatch(guarded, `Bearer ${secret}`)).status).toBe(200)
    const attempts = await serviceSql()<{ status_code: number | null; error: string }[]>`
      select status_code, error from agentry.webhook_attempts where delivery_id = ${id}`
    expect(attempts).toEqual([{ status_code: null, error: 'localhost resolves to a private address; deliveries may not reach it' }])
    expect(receiver.received).toHaveLength(before)
  })

  it('refuses, where private networks are not allowed, a loopback, private or link-local address in the URL, before connecting', async () => {
    const t = await createTenant()
    const port = new URL(receiver.url).port
    // The URL parser normalises each address first: 2130706433 is 127.0.0.1, and ::ffff:127.0.0.1 is ::ffff:7f00:1.
    const refused = {
      [`http://127.0.0.1:${port}/hooks`]: '127.0.0.1',
      [`http://[::1]:${port}/hooks`]: '::1',
      [`http://[::ffff:127.0.0.1]:${port}/hooks`]: '::ffff:7f00:1',
      [`http://2130706433:${port}/hooks`]: '127.0.0.1',
      'http://169.254.169.254/latest/meta-data': '169.254.169.254',
      'http://10.0.0.1/hooks': '10.0.0.1',
    }
    const deliveries = await Promise.all(
      Object.entries(refused).map(async ([url, address]) => ({ url, address, id: (await createDelivery(t, { url })).id })),
    )
    const before = receiver.received.length
    const res = await dispatch(guarded, `Bearer ${secret}`)
    expect(res.status).toBe(200)
    for (const { url, address, id } of deliveries) {
      const attempts = await serviceSql()<{ status_code: number | null; error: string }[]>`
        select status_code, error from agentry.webhook_attempts where delivery_id = ${id}`
      expect(attempts, url).toEqual([
        { status_code: null, error: `${address} is a private, loopback or link-local address; deliveries may not reach it` },
      ])
    }
    expect(receiver.received).toHaveLength(before)
  })
})

const openssl = spawnSync('openssl', ['version']).status === 0

describe.skipIf(!openssl)('the Deno transport over https', () => {
  let dir: string
  let server: https.Server
  let port: number

  beforeAll(async () => {
    // A private CA and a certificate it signs for "localhost" only.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-tls-'))
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Agentry test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign',
    )
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost')
    fs.writeFileSync(path.join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n')
    run(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'leaf.pem',
      '-days',
      '2',
      '-extfile',
      'leaf.ext',
    )
    server = https.createServer(
      { key: fs.readFileSync(path.join(dir, 'leaf.key')), cert: fs.readFileSync(path.join(dir, 'leaf.pem')) },
      (req, res) => {
        req.resume()
        req.on('end', () => res.writeHead(200).end(`hello ${req.headers.host}`))
      },
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  }, 30_000)

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  /** POSTs to each URL with the Deno transport in a Deno process, and says how each went. */
  async function post(
    urls: string[],
    options: { allowPrivate: boolean; trustTestCa: boolean },
  ): Promise<{ status?: number; body?: string; kind?: string; message?: string }[]> {
    const transport = pathToFileURL(path.join(root, 'supabase/functions/webhook-dispatcher/deno-transport.ts')).href
    const script = `
      import { denoTransport } from ${JSON.stringify(transport)}
      const caCerts = ${options.trustTestCa} ? [Deno.readTextFileSync(${JSON.stringify(path.join(dir, 'ca.pem'))})] : undefined
      const send = denoTransport({ allowPrivate: ${options.allowPrivate}, caCerts })
      const out = []
      for (const url of ${JSON.stringify(urls)}) {
        out.push(await send({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5000 })
          .then((r) => ({ status: r.status, body: r.body }), (e) => ({ kind: e.kind, message: e.message })))
      }
      console.log(JSON.stringify(out))`
    // Asynchronously: the receiver answers from this process.
    const { stdout } = await promisify(execFile)(path.join(root, 'node_modules', '.bin', 'deno'), ['eval', '--cached-only', script], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    })
    return JSON.parse(stdout)
  }

  it("connects to the checked address and verifies the certificate for the URL's name, not the address", async () => {
    const [byName, byAddress] = await post([`https://localhost:${port}/hooks`, `https://127.0.0.1:${port}/hooks`], {
      allowPrivate: true,
      trustTestCa: true,
    })
    expect(byName).toEqual({ status: 200, body: `hello localhost:${port}` })
    expect(byAddress.kind).toBe('network')
    expect(byAddress.message).toContain('not valid for name "127.0.0.1"')
  }, 60_000)

  it('refuses a certificate from an issuer it does not trust, and a private name before any TLS', async () => {
    const [untrusted] = await post([`https://localhost:${port}/hooks`], { allowPrivate: true, trustTestCa: false })
    expect(untrusted.kind).toBe('network')
    expect(untrusted.message).toContain('UnknownIssuer')
    const [blocked] = await post([`https://localhost:${port}/hooks`], { allowPrivate: false, trustTestCa: true })
    expect(blocked).toEqual({ kind: 'blocked', message: 'localhost resolves to a private address; deliveries may not reach it' })
  }, 60_000)
})
