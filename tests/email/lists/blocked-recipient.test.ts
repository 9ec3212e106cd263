// A recipient on a block list is left out of a send like a suppressed one, and a send to no one else is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { inbox } from '../outbound/arrange.ts'

// A database of its own: no other file's job runner delivers what these sends queue.
let drop: () => Promise<void>
let api: TestApi
let t: Tenant
let key: string

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  t = await createTenant()
  key = await t.key({ scopes: ['messages:write'], agent: 'agent' })
})
afterAll(async () => {
  await api?.close()
  await drop?.()
})

async function listed(inboxId: string | null, list: 'allow' | 'block', entry: string) {
  await serviceSql()`insert into agentry.email_sender_lists (org_id, inbox_id, list, entry) values (${t.org.id}, ${inboxId}, ${list}, ${entry})`
}

describe('a blocked recipient', () => {
  it("is left out of a send from an agent's inbox and recorded as suppressed (blocked) by the organisation's list", async () => {
    const box = await inbox(t, { agent: 'agent' })
    await listed(null, 'block', 'rival.example.test')
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: ['Ann <ann@partner.example.test>', 'ceo@mail.rival.example.test'], subject: 'Offer', text: 'Hi' },
    })
    expect(res.status, JSON.stringify(res.body)).toBe(202)
    expect(res.body.data.suppressed).toEqual(['ceo@mail.rival.example.test'])
    const [message] = await serviceSql()<{ to_addresses: string[] }[]>`
      select to_addresses from agentry.email_messages where id = ${res.body.data.message_id}`
    expect(message.to_addresses).toEqual(['ann@partner.example.test'])
    const events = await serviceSql()<{ recipient: string; event_type: string; reason: string }[]>`
      select recipient, event_type, detail ->> 'reason' as reason from agentry.email_delivery_events where message_id = ${res.body.data.message_id}`
    expect(events).toEqual([{ recipient: 'ceo@mail.rival.example.test', event_type: 'suppressed', reason: 'blocked' }])
  })

  it("refuses a send whose every recipient is on the inbox's block list with 422, queuing nothing", async () => {
    const box = await inbox(t, { agent: 'agent' })
    await listed(box.id, 'block', 'ex@old.example.test')
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: 'ex@old.example.test', subject: 'Hello again', text: 'Hi' },
    })
    expect(res.status).toBe(422)
    expect(res.body.error.code).toBe('unprocessable')
    expect(res.body.error.message).toContain('ex@old.example.test: blocked')
    const [{ n }] = await serviceSql()<{ n: number }[]>`select count(*)::int as n from agentry.email_messages where inbox_id = ${box.id}`
    expect(n).toBe(0)
  })

  it('is sent to when an allow entry names it as well', async () => {
    const box = await inbox(t, { agent: 'agent' })
    await listed(null, 'block', 'agency.example.test')
    await listed(box.id, 'allow', 'jo@agency.example.test')
    const res = await api.call('POST', '/messages/send', {
      key,
      body: { inbox_id: box.id, to: 'jo@agency.example.test', subject: 'Brief', text: 'Hi' },
    })
    expect(res.status).toBe(202)
    expect(res.body.data.suppressed).toEqual([])
  })
})
