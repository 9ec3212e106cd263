// The webhook dispatcher's Supabase Edge Function entry under the real Deno binary, as pg_cron would invoke
// it through pg_net: it delivers due webhooks with the Deno transport, and only for a caller with its secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDenoEntry, type DenoEntry } from '../harness/deno.ts'
import { startReceiver, type Receiver } from '../harness/receiver.ts'
import { createTenant, isolateDatabase } from '../harness/tenants.ts'
import { createDelivery } from '../harness/webhooks.ts'

const secret = 'dispatcher-test-secret'

let db: Awaited<ReturnType<typeof isolateDatabase>>
let entry: DenoEntry
let url: string
let receiver: Receiver

beforeAll(async () => {
  db = await isolateDatabase()
  receiver = await startReceiver()
  const env = { DATABASE_URL: db.url, WEBHOOK_DISPATCHER_SECRET: secret, WEBHOOK_ALLOW_PRIVATE: 'true' }
  entry = await startDenoEntry('supabase/functions/webhook-dispatcher/index.ts', env, (at) => fetch(at, { method: 'POST' }))
  url = `${entry.origin}/`
}, 90_000)

afterAll(async () => {
  await entry?.stop()
  await receiver?.close()
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
