import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { searchThreadsRoute } from '../../functions/email/threads/search-threads.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { inboxOf, markVictimMail, seedDomain, seedInbox, seedThread } from './mail.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
  await markVictimMail()
})
afterAll(() => api.close())

describeSecurity(searchThreadsRoute, { query: async (t) => `q=hello&inbox_id=${(await inboxOf(t)).inboxId}` }, () => api)

const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 12, minute)).toISOString()
const ids = (res: { body: { data: { thread_id: string }[] } }) => res.body.data.map((t) => t.thread_id)

/** An inbox with threads about shipping, refunds and a partnership. */
async function mailbox(t: Tenant, options: { agent?: 'agent' | 'otherAgent'; domain?: { id: string; name: string } } = {}) {
  const inbox = await seedInbox(t, options)
  const shipping = await seedThread(t.org.id, inbox.id, 'Where is my order?', [
    { from: 'angry@customer.com', text: 'My shipping is late and I am unhappy with the delivery.', at: at(1) },
    { direction: 'outbound', from: inbox.address, text: 'Sorry, the shipping delay is on us.', at: at(2) },
  ])
  const refund = await seedThread(t.org.id, inbox.id, 'Refund request', [
    { from: 'buyer@customer.com', text: 'Please refund my order, it arrived broken.', at: at(3) },
  ])
  const partnership = await seedThread(t.org.id, inbox.id, 'Partnership proposal', [
    { direction: 'outbound', from: inbox.address, to: ['ceo@partner.com'], text: 'Would you like to work together?', at: at(4) },
  ])
  return { inbox, shipping: shipping.id, refund: refund.id, partnership: partnership.id }
}

describe('searching threads', () => {
  it('finds threads by subject, text and sender, best first, with the thread fields and a score from 0 to 1', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['threads:read'] })
    const box = await mailbox(t)

    const shipping = await api.call('GET', `/search/threads?q=shipping+delay&inbox_id=${box.inbox.id}`, { key })
    expect(shipping.status).toBe(200)
    expect(shipping.body.search_type).toBe('keyword')
    expect(ids(shipping)).toEqual([box.shipping])
    expect(shipping.body.data[0]).toMatchObject({
      thread_id: box.shipping,
      inbox_id: box.inbox.id,
      subject: 'Where is my order?',
      message_count: 2,
      last_direction: 'outbound',
      status: 'open',
      tags: [],
    })
    expect(shipping.body.data[0].score).toBeGreaterThan(0)
    expect(shipping.body.data[0].score).toBeLessThan(1)

    const bySubject = await api.call('GET', `/search/threads?q=partnership+proposal&inbox_id=${box.inbox.id}`, { key })
    expect(ids(bySubject)).toEqual([box.partnership])
    const bySender = await api.call('GET', `/search/threads?q=buyer@customer.com&inbox_id=${box.inbox.id}`, { key })
    expect(ids(bySender)).toEqual([box.refund])
    // "order" is in the shipping thread's subject, which weighs more than the refund thread's text.
    const order = await api.call('GET', `/search/threads?q=order&inbox_id=${box.inbox.id}`, { key })
    expect(ids(order)).toEqual([box.shipping, box.refund])
    expect(order.body.data[0].score).toBeGreaterThan(order.body.data[1].score)
    expect(ids(await api.call('GET', `/search/threads?q=order&inbox_id=${box.inbox.id}&limit=1`, { key }))).toEqual([box.shipping])
    expect((await api.call('GET', `/search/threads?q=zebra&inbox_id=${box.inbox.id}`, { key })).body).toEqual({
      data: [],
      search_type: 'keyword',
    })
  })

  it('falls back on any of the words when too few threads hold them all, strict matches first, exclusions kept', async () => {
    const t = await createTenant()
    const key = await t.key()
    const box = await mailbox(t)
    const q = (text: string) => api.call('GET', `/search/threads?q=${encodeURIComponent(text)}&inbox_id=${box.inbox.id}`, { key })

    // No thread holds both words: each thread holding either follows.
    expect(new Set(ids(await q('refund partnership')))).toEqual(new Set([box.refund, box.partnership]))
    // The thread holding every word leads; those holding some follow.
    const some = await q('unhappy delivery order')
    expect(ids(some)).toEqual([box.shipping, box.refund])
    // An excluded word keeps its threads out of the fallback too.
    expect(ids(await q('refund partnership -proposal'))).toEqual([box.refund])
    // Enough strict matches: no fallback.
    expect(ids(await q('broken refund'))).toEqual([box.refund])
  })

  it('searches every inbox on a domain with domain_id', async () => {
    const t = await createTenant()
    const key = await t.key()
    const domain = await seedDomain(t)
    const a = await mailbox(t, { domain })
    const b = await mailbox(t, { domain })
    const elsewhere = await mailbox(t)
    const res = await api.call('GET', `/search/threads?q=refund&domain_id=${domain.id}`, { key })
    expect(new Set(ids(res))).toEqual(new Set([a.refund, b.refund]))
    // Both narrow together, as in the listings.
    const both = (inboxId: string) => api.call('GET', `/search/threads?q=refund&domain_id=${domain.id}&inbox_id=${inboxId}`, { key })
    expect(ids(await both(a.inbox.id))).toEqual([a.refund])
    expect(ids(await both(elsewhere.inbox.id))).toEqual([])
  })

  it("keeps an agent key to its own inboxes and never shows another organisation's threads", async () => {
    const t = await createTenant()
    const domain = await seedDomain(t)
    const mine = await mailbox(t, { agent: 'agent', domain })
    const theirs = await mailbox(t, { agent: 'otherAgent', domain })
    // Holding only the scope the route needs: no inboxes:read.
    const agentKey = await t.key({ agent: 'agent', scopes: ['threads:read'] })
    expect(ids(await api.call('GET', `/search/threads?q=refund&domain_id=${domain.id}`, { key: agentKey }))).toEqual([mine.refund])
    expect(ids(await api.call('GET', `/search/threads?q=refund&inbox_id=${theirs.inbox.id}`, { key: agentKey }))).toEqual([])
    const stranger = await (await createTenant()).key()
    expect(ids(await api.call('GET', `/search/threads?q=refund&domain_id=${domain.id}`, { key: stranger }))).toEqual([])
    expect(ids(await api.call('GET', `/search/threads?q=refund&inbox_id=${mine.inbox.id}`, { key: stranger }))).toEqual([])
  })

  it('requires q and inbox_id or domain_id, and limits to 1–100', async () => {
    const t = await createTenant()
    const key = await t.key()
    const inbox = await seedInbox(t)
    const missing = await api.call('GET', '/search/threads?q=refund', { key })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toBe('Invalid request: Give inbox_id or domain_id.')
    for (const query of [
      `inbox_id=${inbox.id}`,
      `q=&inbox_id=${inbox.id}`,
      `q=%20&inbox_id=${inbox.id}`,
      `q=a&inbox_id=${inbox.id}&limit=0`,
      `q=a&inbox_id=${inbox.id}&limit=101`,
      `q=${'a'.repeat(1001)}&inbox_id=${inbox.id}`,
    ]) {
      const res = await api.call('GET', `/search/threads?${query}`, { key })
      expect(res.status, query).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    // Odd input is a query like any other, never an error.
    for (const q of ['"unclosed', '-', 'or', '!!&|', "it's", '\\']) {
      const res = await api.call('GET', `/search/threads?q=${encodeURIComponent(q)}&inbox_id=${inbox.id}`, { key })
      expect(res.status, q).toBe(200)
    }
  })

  it("matches through the GIN index of the messages as the ranking's owner, which the policies alone would not allow", async () => {
    const t = await createTenant()
    await mailbox(t)
    const sql = serviceSql()
    const plans = await sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`
      await tx`set local role authenticated`
      await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: null, org_id: t.org.id, agent_id: null, key_id: null, scopes: ['threads:read'] })}, true)`
      const underPolicies = await tx.unsafe(
        `explain select thread_id from agentry.email_messages where tsv @@ websearch_to_tsquery('english', 'refund')`,
      )
      await tx`reset role`
      // The ranking's match, as its owner runs it.
      const asOwner = await tx.unsafe(
        `explain select thread_id from agentry.email_messages where tsv @@ websearch_to_tsquery('english', 'refund')`,
      )
      return {
        underPolicies: underPolicies.map((r) => r['QUERY PLAN']).join('\n'),
        asOwner: asOwner.map((r) => r['QUERY PLAN']).join('\n'),
      }
    })
    expect(plans.asOwner).toMatch(/Index Cond: \(tsv @@/)
    expect(plans.underPolicies).not.toMatch(/Index Cond: \(tsv @@/)
  })
})
