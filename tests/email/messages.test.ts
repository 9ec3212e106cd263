import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listEmailMessagesRoute } from '../../functions/email/messages/list-messages.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant } from '../harness/tenants.ts'
import { inboxOf, markVictimMail, seedDomain, seedInbox, seedThread } from './mail.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
  await markVictimMail()
})
afterAll(() => api.close())

describeSecurity(listEmailMessagesRoute, { query: async (t) => `inbox_id=${(await inboxOf(t)).inboxId}` }, () => api)

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString()
const texts = (res: { body: { data: { content: string }[] } }) => res.body.data.map((m) => m.content)

describe('listing messages', () => {
  it('lists an inbox newest first, pages with next_cursor, and oldest first when asked', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['messages:read'] })
    const inbox = await seedInbox(t)
    await seedThread(t.org.id, inbox.id, 'One', [
      { text: 'm1', at: at(1) },
      { text: 'm3', at: at(3), direction: 'outbound' },
    ])
    await seedThread(t.org.id, inbox.id, 'Two', [{ text: 'm2', at: at(2) }])
    await seedThread(t.org.id, (await seedInbox(t)).id, 'Elsewhere', [{ text: 'other', at: at(4) }])

    const page = await api.call('GET', `/messages?inbox_id=${inbox.id}&limit=2`, { key })
    expect(page.status).toBe(200)
    expect(texts(page)).toEqual(['m3', 'm2'])
    expect(page.body.has_more).toBe(true)
    expect(page.body.data[0]).not.toHaveProperty('position')
    expect(page.body.data[0]).toMatchObject({ direction: 'outbound', inbox_id: inbox.id, metadata: { subject: 'One', status: 'sent' } })
    const rest = await api.call('GET', `/messages?inbox_id=${inbox.id}&limit=2&cursor=${page.body.next_cursor}`, { key })
    expect(texts(rest)).toEqual(['m1'])
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(texts(await api.call('GET', `/messages?inbox_id=${inbox.id}&order=asc`, { key }))).toEqual(['m1', 'm2', 'm3'])
  })

  it('filters by sender in any case, by domain, and by time, combined', async () => {
    const t = await createTenant()
    const key = await t.key()
    const domain = await seedDomain(t)
    const a = await seedInbox(t, { domain })
    const b = await seedInbox(t, { domain })
    const shared = await seedInbox(t)
    await seedThread(t.org.id, a.id, 'A', [
      { from: 'john@corp.com', text: 'a1', at: at(1) },
      { from: 'mary@corp.com', text: 'a2', at: at(2) },
    ])
    await seedThread(t.org.id, b.id, 'B', [{ from: 'john@corp.com', text: 'b1', at: at(3) }])
    await seedThread(t.org.id, shared.id, 'S', [{ from: 'john@corp.com', text: 's1', at: at(4) }])

    expect(texts(await api.call('GET', '/messages?sender=John@Corp.com', { key }))).toEqual(['s1', 'b1', 'a1'])
    expect(texts(await api.call('GET', `/messages?domain_id=${domain.id}`, { key }))).toEqual(['b1', 'a2', 'a1'])
    expect(texts(await api.call('GET', `/messages?domain_id=${domain.id}&sender=john@corp.com`, { key }))).toEqual(['b1', 'a1'])
    const window = `after=${encodeURIComponent(at(1))}&before=${encodeURIComponent(at(4))}`
    expect(texts(await api.call('GET', `/messages?sender=john@corp.com&${window}`, { key }))).toEqual(['b1'])
    expect(texts(await api.call('GET', `/messages?inbox_id=${a.id}&after=2026-11-01T12:01:30%2B00:00`, { key }))).toEqual(['a2'])
  })

  it('requires inbox_id, domain_id or sender, and rejects bad filters with 400', async () => {
    const t = await createTenant()
    const key = await t.key()
    const missing = await api.call('GET', '/messages?limit=5', { key })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe('Invalid request: Give inbox_id, domain_id, or sender.')
    expect(missing.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['inbox_id', 'domain_id', 'sender'])
    for (const q of [
      'after=yesterday',
      'before=2026-13-01',
      'order=newest',
      'limit=0',
      'limit=101',
      'cursor=1',
      'domain_id=x',
      'sender=',
    ]) {
      const res = await api.call('GET', `/messages?sender=a@b.com&${q}`, { key })
      expect(res.status, q).toBe(400)
      expect(res.body.error.code, q).toBe('validation_failed')
    }
  })

  it("shows an agent key its own inboxes' messages only, and another organisation's key none", async () => {
    const t = await createTenant()
    const mine = await seedInbox(t, { agent: 'agent' })
    const theirs = await seedInbox(t, { agent: 'otherAgent' })
    await seedThread(t.org.id, mine.id, 'Mine', [{ from: 'x@corp.com', text: 'mine', at: at(1) }])
    await seedThread(t.org.id, theirs.id, 'Theirs', [{ from: 'x@corp.com', text: 'theirs', at: at(2) }])
    expect(
      texts(await api.call('GET', '/messages?sender=x@corp.com', { key: await t.key({ agent: 'agent', scopes: ['messages:read'] }) })),
    ).toEqual(['mine'])
    expect(texts(await api.call('GET', '/messages?sender=x@corp.com', { key: await t.key() }))).toEqual(['theirs', 'mine'])
    expect(texts(await api.call('GET', '/messages?sender=x@corp.com', { key: await (await createTenant()).key() }))).toEqual([])
  })
})
