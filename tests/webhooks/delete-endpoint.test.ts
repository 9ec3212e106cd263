// Deleting a webhook endpoint, as documented: the endpoint goes with its secret, its deliveries and their
// attempts, and it receives nothing more; the organisation's other endpoints keep theirs. Real API, real
// dispatcher passes with the Node transport, a real receiver on loopback.
import { beforeAll, describe, expect, it } from 'vitest'
import type { Receiver } from '../harness/receiver.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { webhookSuite } from '../harness/webhooks.ts'

const suite = webhookSuite({ api: true })
const { api } = suite
let doomedReceiver: Receiver
let neighbourReceiver: Receiver

beforeAll(async () => {
  doomedReceiver = await suite.receiver()
  neighbourReceiver = await suite.receiver()
})

async function countWhere(table: string, column: string, id: string): Promise<number> {
  const sql = serviceSql()
  const [{ n }] = await sql`select count(*)::int as n from ${sql(`agentry.${table}`)} where ${sql(column)} = ${id}`
  return n
}

describe('deleting a webhook endpoint', () => {
  it('removes it with its secret, deliveries and their attempts, keeps its neighbours, and it receives nothing more', async () => {
    const t = await createTenant()
    const key = await t.key()
    const subscribe = async (url: string) => {
      const res = await api.call('POST', '/webhooks', { key, body: { url, events: ['api_key.created'] } })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res.body.data.id as string
    }
    const doomed = await subscribe(doomedReceiver.url)
    const neighbour = await subscribe(neighbourReceiver.url)
    const createKey = async () =>
      expect((await api.call('POST', '/agent/api-keys', { key, body: { name: 'makes an event' } })).status).toBe(201)

    // Before: both endpoints receive, and each has a delivered delivery with an attempt, plus one still queued.
    await createKey()
    expect(await suite.dispatchAllDue()).toBe(2)
    expect(doomedReceiver.received).toHaveLength(1)
    expect(neighbourReceiver.received).toHaveLength(1)
    await createKey()
    const queued = await api.call('POST', `/webhooks/${doomed}/test`, { key })
    expect(queued.status).toBe(202)
    expect(await countWhere('webhook_deliveries', 'endpoint_id', doomed)).toBe(3)
    expect(await countWhere('webhook_attempts', 'endpoint_id', doomed)).toBe(1)
    const asItWas = await api.call('GET', `/webhooks/${doomed}`, { key })

    const deleted = await api.call('DELETE', `/webhooks/${doomed}`, { key })
    expect(deleted.status).toBe(200)
    expect(deleted.body).toEqual(asItWas.body)
    expect(JSON.stringify(deleted.body)).not.toContain('whsec_')

    expect(await countWhere('webhook_endpoints', 'id', doomed)).toBe(0)
    expect(await countWhere('webhook_deliveries', 'endpoint_id', doomed)).toBe(0)
    expect(await countWhere('webhook_attempts', 'endpoint_id', doomed)).toBe(0)
    expect(await countWhere('events', 'endpoint_id', doomed)).toBe(0)
    expect(await countWhere('webhook_deliveries', 'endpoint_id', neighbour)).toBe(2)

    expect((await api.call('GET', `/webhooks/${doomed}`, { key })).status).toBe(404)
    expect((await api.call('DELETE', `/webhooks/${doomed}`, { key })).status).toBe(404)
    const listed = await api.call('GET', '/webhooks', { key })
    expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([neighbour])

    // After: what was queued and what happens next reach the neighbour alone.
    await createKey()
    expect(await suite.dispatchAllDue()).toBe(2)
    expect(doomedReceiver.received).toHaveLength(1)
    expect(neighbourReceiver.received).toHaveLength(3)
    expect(await countWhere('webhook_deliveries', 'endpoint_id', neighbour)).toBe(3)
  })
})
