import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { callApi } from '../harness/api.ts'
import { startDenoEntry, type DenoEntry } from '../harness/deno.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// The Supabase Edge Function entry, run by the real Deno binary as `npm run start:deno` runs it. DENO_DIR is
// a fresh empty folder and --cached-only forbids fetching anything, so a passing run proves the entry starts
// from node_modules alone ("nodeModulesDir": "manual"), with nothing downloaded.
let entry: DenoEntry
let denoDir: string
let origin: string
let base: string

beforeAll(async () => {
  entry = await startDenoEntry('supabase/functions/api/index.ts', { DATABASE_URL: inject('databaseUrl') }, async (at) => {
    if (!(await fetch(`${at}/api/v1/openapi.json`)).ok) throw new Error('not ready')
  })
  origin = entry.origin
  denoDir = entry.denoDir
  base = `${origin}/functions/v1/api/v1`
}, 90_000)

afterAll(() => entry?.stop())

describe('the Edge Function entry under Deno', () => {
  it('serves the OpenAPI document at the path Supabase hands the function', async () => {
    const res = await callApi(origin, 'GET', '/api/v1/openapi.json')
    expect(res.status).toBe(200)
    expect(res.body.openapi).toBe('3.1.0')
  })

  it('answers /me with the organisation and the rate-limit headers', async () => {
    const t = await createTenant()
    const res = await callApi(base, 'GET', '/me', { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data.org.id).toBe(t.org.id)
    expect(res.headers.get('x-ratelimit-limit')).toBe(String(res.body.data.rate_limit.limit))
    expect(res.headers.get('x-ratelimit-remaining')).toMatch(/^\d+$/)
    expect(res.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/)
  })

  it('rejects a request without a key with 401 unauthorized', async () => {
    const res = await callApi(base, 'GET', '/me')
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ error: { code: 'unauthorized' } })
  })

  it('rejects a key lacking keys:read with 403 insufficient_scope', async () => {
    const t = await createTenant()
    const res = await callApi(base, 'GET', '/agent/api-keys', { key: await t.key({ scopes: ['datasets:read'] }) })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('insufficient_scope')
  })

  it('creates a key that works at once', async () => {
    const t = await createTenant()
    const created = await callApi(base, 'POST', '/agent/api-keys', { key: await t.key(), body: { name: 'deno', scopes: ['keys:read'] } })
    expect(created.status).toBe(201)
    const list = await callApi(base, 'GET', '/agent/api-keys', { key: created.body.data.key })
    expect(list.status).toBe(200)
    expect(list.body.data.map((k: { id: string }) => k.id)).toContain(created.body.data.id)
  })

  it('queries dataset rows on both surfaces', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id, name } = await createDataset(t, { columns: [{ name: 'n', type: 'number' }], rows: [{ n: 1 }, { n: 2 }, { n: 3 }] })
    const rows = await callApi(base, 'GET', `/datasets/${id}/rows?or=(n.eq.1,n.gt.2)&select=n&order=n.desc`, { key })
    expect(rows.body.data).toEqual({ rows: [{ n: 3 }, { n: 1 }], total: 2, columns: ['n'] })
    const rest = await callApi(base, 'GET', `/rest/v1/${encodeURIComponent(name)}?select=n&n=lt.3`, {
      key,
      headers: { prefer: 'count=exact' },
    })
    expect(rest.body).toEqual([{ n: 1 }, { n: 2 }])
    expect(rest.headers.get('content-range')).toBe('0-1/2')
  })

  it('chats with the offline model, blocking and streaming', async () => {
    const t = await createTenant()
    const key = await t.key()
    const blocking = await callApi(base, 'POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi from Deno' } })
    expect(blocking.status).toBe(200)
    expect(blocking.body.data).toMatchObject({ model: 'offline', status: 'complete' })
    const res = await fetch(`${base}/chat/${t.agent.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Stream, please', stream: true, conversation_id: blocking.body.data.conversation_id }),
    })
    const text = await res.text()
    expect(text).toContain('event: message.start')
    expect(text).toContain('event: message.end')
    expect(text).toMatch(/event: done\ndata: {}\nid: \d+\n\n$/)
  })

  it('downloaded no npm package into its empty DENO_DIR', () => {
    const npmCache = path.join(denoDir, 'npm')
    expect(fs.existsSync(npmCache) ? fs.readdirSync(npmCache) : []).toEqual([])
  })

  // Last: it stops the entry.
  it('writes usage counts and gives leased tokens back when stopped with SIGTERM', async () => {
    const t = await createTenant({ rateLimitPerMinute: 1000 })
    const { key, id } = await t.keyWithId()
    // Eight calls in well under a second: no periodic flush has run when the signal arrives.
    for (let i = 0; i < 8; i++) expect((await callApi(base, 'GET', '/me', { key })).status).toBe(200)
    await entry.stop()
    const [usage] = await serviceSql()`select call_count::int as calls from agentry.api_keys where id = ${id}`
    expect(usage.calls).toBe(8)
    const [bucket] = await serviceSql()`select current_count + previous_count as used from agentry.rate_limits where org_id = ${t.org.id}`
    expect(bucket.used).toBe(8)
  })
})
