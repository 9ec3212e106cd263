// The event stream served by the Supabase Edge Function entry under the real Deno binary: the same SSE route,
// and the WebSocket route upgraded as Deno does (hono/deno).
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { startDenoEntry, type DenoEntry } from '../harness/deno.ts'
import { createDataset } from '../harness/datasets.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { closeClients, openSocket, openSse } from './clients.ts'

let entry: DenoEntry
let base: string
beforeAll(async () => {
  entry = await startDenoEntry('supabase/functions/api/index.ts', { DATABASE_URL: inject('databaseUrl') }, async (at) => {
    if (!(await fetch(`${at}/api/v1/openapi.json`)).ok) throw new Error('not ready')
  })
  base = `${entry.origin}/functions/v1/api/v1`
}, 90_000)
afterEach(closeClients)
afterAll(() => entry?.stop())

describe('the event stream under Deno', () => {
  it('streams a row inserted elsewhere over SSE and over a WebSocket', async () => {
    const t = await createTenant()
    const key = await t.key()
    const dataset = await createDataset(t)
    const sse = await openSse(`${base}/events/stream?types=dataset.row.created`, key)
    expect(sse.status).toBe(200)
    const ws = await openSocket(`${base}/events/ws`, key)
    ws.send({ type: 'subscribe', types: ['dataset.row.created'] })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'subscribed'))

    await serviceSql()`select agentry.insert_dataset_rows(${dataset.id}, '[{"name": "Ada"}]')`
    const [event] = await sse.waitFor(1)
    expect(event.event).toBe('dataset.row.created')
    expect(event.data.data).toMatchObject({ dataset_id: dataset.id, row: { name: 'Ada' } })
    const frames = await ws.waitFor((f) => f.some((frame) => frame.type === 'event'))
    expect(frames.find((f) => f.type === 'event')).toEqual({ type: 'event', id: event.id, event: event.data })
  }, 30_000)
})
