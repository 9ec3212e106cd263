import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deleteSuppressionRoute } from '../../../functions/email/delivery/delete-suppression.ts'
import { getDeliveryMetricsRoute } from '../../../functions/email/delivery/get-metrics.ts'
import { listDeliveryEventsRoute } from '../../../functions/email/delivery/list-events.ts'
import { listSuppressionsRoute } from '../../../functions/email/delivery/list-suppressions.ts'
import { startApi, type TestApi } from '../../harness/api.ts'
import { describeSecurity } from '../../harness/security.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { seedInbox, seedThread } from '../mail.ts'

// The delivery routes read what the sending job and the inbound path recorded; here it is written straight
// into the database, at chosen times, so counts and windows are exact.
let drop: () => Promise<void>
let api: TestApi

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
})

afterAll(async () => {
  await api?.close()
  await drop?.()
})

type EventType = 'sent' | 'delivered' | 'bounced' | 'complained' | 'failed' | 'suppressed'

/** An outbound message of the inbox, sent to `recipient`. */
async function outbound(t: Tenant, inboxId: string, recipient = 'reader@remote.example'): Promise<string> {
  const thread = await seedThread(t.org.id, inboxId, 'Hello', [{ direction: 'outbound', to: [recipient], at: new Date().toISOString() }])
  return thread.messageIds[0]
}

async function event(t: Tenant, inboxId: string, messageId: string, type: EventType, daysAgo = 0, recipient = 'reader@remote.example') {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_delivery_events (org_id, inbox_id, message_id, recipient, event_type, occurred_at)
    values (${t.org.id}, ${inboxId}, ${messageId}, ${recipient}, ${type}, now() - make_interval(days => ${daysAgo}) - interval '1 minute')
    returning id::text`
  return row.id
}

async function suppression(t: Tenant, inboxId: string, address = `gone-${crypto.randomUUID().slice(0, 8)}@remote.example`) {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_suppressions (org_id, inbox_id, address, reason) values (${t.org.id}, ${inboxId}, ${address}, 'hard_bounce')
    returning id::text`
  return row.id
}

const suppressionOf = (agent?: 'agent' | 'otherAgent') => async (t: Tenant) => ({
  id: await suppression(t, (await seedInbox(t, { agent })).id),
})

describeSecurity(listDeliveryEventsRoute, {}, () => api)
describeSecurity(getDeliveryMetricsRoute, {}, () => api)
describeSecurity(listSuppressionsRoute, {}, () => api)
describeSecurity(deleteSuppressionRoute, { params: suppressionOf('agent'), otherAgentParams: suppressionOf('otherAgent') }, () => api)

describe('GET /delivery/metrics', () => {
  it('counts each kind of event in the window and divides by sent, exactly', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['messages:read'] })
    const box = await seedInbox(t)
    const m = await outbound(t, box.id)
    const plan: [EventType, number][] = [
      ['sent', 8],
      ['delivered', 5],
      ['bounced', 2],
      ['complained', 1],
      ['failed', 1],
      ['suppressed', 3],
    ]
    for (const [type, n] of plan) for (let i = 0; i < n; i++) await event(t, box.id, m, type, 1, `r${i}@remote.example`)
    // Outside the last 7 days, inside the last 14.
    for (let i = 0; i < 2; i++) await event(t, box.id, m, 'sent', 10, `old${i}@remote.example`)
    await event(t, box.id, m, 'bounced', 10, 'old0@remote.example')

    const week = await api.call('GET', `/delivery/metrics?inbox_id=${box.id}&period=7d`, { key })
    expect(week.status, JSON.stringify(week.body)).toBe(200)
    expect(week.body.data).toMatchObject({
      inbox_id: box.id,
      days: 7,
      sent: 8,
      delivered: 5,
      bounced: 2,
      complained: 1,
      failed: 1,
      suppressed: 3,
      delivery_rate: 0.625,
      bounce_rate: 0.25,
      complaint_rate: 0.125,
    })
    const fortnight = await api.call('GET', `/delivery/metrics?inbox_id=${box.id}&days=14`, { key })
    expect(fortnight.body.data).toMatchObject({ days: 14, sent: 10, bounced: 3, bounce_rate: 0.3, delivery_rate: 0.5 })
    const byDefault = await api.call('GET', `/delivery/metrics?inbox_id=${box.id}`, { key })
    expect(byDefault.body.data).toMatchObject({ days: 7, sent: 8 })
    const month = await api.call('GET', '/delivery/metrics?period=30d', { key })
    expect(month.body.data).toMatchObject({ inbox_id: null, days: 30, sent: 10 })
    expect(Date.parse(month.body.data.to) - Date.parse(month.body.data.from)).toBe(30 * 86_400_000)
  })

  it('answers rates of 0, not NaN, when nothing was sent', async () => {
    const t = await createTenant()
    const box = await seedInbox(t)
    const res = await api.call('GET', `/delivery/metrics?inbox_id=${box.id}&days=90`, { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      days: 90,
      sent: 0,
      delivered: 0,
      bounced: 0,
      complained: 0,
      failed: 0,
      suppressed: 0,
      delivery_rate: 0,
      bounce_rate: 0,
      complaint_rate: 0,
    })
  })

  it.each([
    ['days=91', /days/],
    ['days=0', /days/],
    ['days=two', /days/],
    ['period=90d', /period/],
    ['period=7d&days=3', /Give period or days, not both\./],
    ['inbox_id=not-a-uuid', /inbox_id/],
  ])('refuses %s with 400', async (query, message) => {
    const t = await createTenant()
    const res = await api.call('GET', `/delivery/metrics?${query}`, { key: await t.key() })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(JSON.stringify(res.body.error)).toMatch(message)
  })

  it("counts only the caller's own organisation, and an agent key only its own inboxes", async () => {
    const t = await createTenant()
    const other = await createTenant()
    const own = await seedInbox(t, { agent: 'agent' })
    const colleague = await seedInbox(t, { agent: 'otherAgent' })
    const foreign = await seedInbox(other)
    await event(t, own.id, await outbound(t, own.id), 'sent')
    await event(t, colleague.id, await outbound(t, colleague.id), 'sent')
    await event(other, foreign.id, await outbound(other, foreign.id), 'sent')

    expect((await api.call('GET', '/delivery/metrics', { key: await t.key() })).body.data.sent).toBe(2)
    expect((await api.call('GET', '/delivery/metrics', { key: await t.key({ agent: 'agent' }) })).body.data.sent).toBe(1)
    const peek = await api.call('GET', `/delivery/metrics?inbox_id=${foreign.id}`, { key: await t.key() })
    expect(peek.body.data.sent).toBe(0)
  })
})

describe('GET /delivery/events', () => {
  it('lists events newest first, filtered by inbox, message and type, a page at a time', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['messages:read'] })
    const box = await seedInbox(t)
    const first = await outbound(t, box.id)
    const second = await outbound(t, box.id)
    const sentFirst = await event(t, box.id, first, 'sent', 3)
    const bouncedFirst = await event(t, box.id, first, 'bounced', 2)
    const sentSecond = await event(t, box.id, second, 'sent', 1)

    const all = await api.call('GET', `/delivery/events?inbox_id=${box.id}`, { key })
    expect(all.status).toBe(200)
    expect(all.body.data.map((e: any) => e.id)).toEqual([sentSecond, bouncedFirst, sentFirst])
    expect(all.body.data[1]).toEqual({
      id: bouncedFirst,
      inbox_id: box.id,
      message_id: first,
      recipient: 'reader@remote.example',
      event_type: 'bounced',
      detail: {},
      occurred_at: expect.any(String),
    })
    const ofFirst = await api.call('GET', `/delivery/events?message_id=${first}`, { key })
    expect(ofFirst.body.data.map((e: any) => e.id)).toEqual([bouncedFirst, sentFirst])
    const bounces = await api.call('GET', `/delivery/events?inbox_id=${box.id}&event_type=bounced`, { key })
    expect(bounces.body.data.map((e: any) => e.id)).toEqual([bouncedFirst])

    const page1 = await api.call('GET', `/delivery/events?inbox_id=${box.id}&limit=2`, { key })
    expect(page1.body).toMatchObject({ has_more: true })
    const page2 = await api.call('GET', `/delivery/events?inbox_id=${box.id}&limit=2&cursor=${page1.body.next_cursor}`, { key })
    expect([...page1.body.data, ...page2.body.data].map((e: any) => e.id)).toEqual([sentSecond, bouncedFirst, sentFirst])
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null })
  })

  it('refuses an unknown event type and a made-up cursor with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    expect((await api.call('GET', '/delivery/events?event_type=opened', { key })).status).toBe(400)
    expect((await api.call('GET', '/delivery/events?cursor=yesterday', { key })).status).toBe(400)
  })

  it("shows an agent key its own inboxes' events and no one else's", async () => {
    const t = await createTenant()
    const own = await seedInbox(t, { agent: 'agent' })
    const colleague = await seedInbox(t, { agent: 'otherAgent' })
    const mine = await event(t, own.id, await outbound(t, own.id), 'sent')
    await event(t, colleague.id, await outbound(t, colleague.id), 'sent')
    const res = await api.call('GET', '/delivery/events', { key: await t.key({ agent: 'agent', scopes: ['messages:read'] }) })
    expect(res.body.data.map((e: any) => e.id)).toEqual([mine])
  })
})

describe('the suppression list', () => {
  it("lists an inbox's suppressions and removes one for good", async () => {
    const t = await createTenant()
    const box = await seedInbox(t)
    const other = await seedInbox(t)
    const id = await suppression(t, box.id, 'gone@remote.example')
    await suppression(t, other.id, 'elsewhere@remote.example')
    const read = await t.key({ scopes: ['messages:read'] })
    const list = await api.call('GET', `/delivery/suppressions?inbox_id=${box.id}`, { key: read })
    expect(list.body.data).toEqual([
      {
        id,
        inbox_id: box.id,
        address: 'gone@remote.example',
        reason: 'hard_bounce',
        source_event_id: null,
        source_message_id: null,
        created_at: expect.any(String),
      },
    ])
    expect((await api.call('DELETE', `/delivery/suppressions/${id}`, { key: read })).status).toBe(403)
    const write = await t.key({ scopes: ['messages:write'] })
    expect((await api.call('DELETE', `/delivery/suppressions/${id}`, { key: write })).status).toBe(200)
    expect((await api.call('DELETE', `/delivery/suppressions/${id}`, { key: write })).status).toBe(404)
    expect((await api.call('GET', `/delivery/suppressions?inbox_id=${box.id}`, { key: read })).body.data).toEqual([])
  })

  it("never removes another organisation's suppression", async () => {
    const t = await createTenant()
    const other = await createTenant()
    const id = await suppression(other, (await seedInbox(other)).id)
    const res = await api.call('DELETE', `/delivery/suppressions/${id}`, { key: await t.key() })
    expect(res.status).toBe(404)
    const [row] = await serviceSql()`select id from agentry.email_suppressions where id = ${id}`
    expect(row).toBeDefined()
  })
})
