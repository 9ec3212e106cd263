import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { embeddedText, embedMessagesKind } from '../../functions/email/search/embed-messages.ts'
import { searchThreadsRoute } from '../../functions/email/threads/search-threads.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { type FakeEmbeddings, startFakeEmbeddings } from '../harness/fake-embeddings.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'
import { inboxOf, markVictimMail, seedDomain, seedInbox, seedThread } from './mail.ts'

let api: TestApi
let drop: () => Promise<void>
beforeAll(async () => {
  // A database of this file's own: the embedding jobs it queues must be run by its runner, with its provider,
  // not claimed by another file's runner.
  drop = (await isolateDatabase()).drop
  api = await startApi()
  await markVictimMail()
})
afterAll(async () => {
  await api.close()
  await drop()
})

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
    // A phrase stays a phrase in the fallback: the refund thread holds both words, but not side by side.
    expect(ids(await q('"broken refund" partnership'))).toEqual([box.partnership])
    expect(new Set(ids(await q('"arrived broken" partnership')))).toEqual(new Set([box.refund, box.partnership]))
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

describe('searching threads by meaning', () => {
  let fake: FakeEmbeddings
  beforeAll(async () => {
    fake = await startFakeEmbeddings()
    process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
    process.env.EMBEDDINGS_MODEL = 'fake-embed'
  })
  afterAll(async () => {
    delete process.env.EMBEDDINGS_BASE_URL
    delete process.env.EMBEDDINGS_MODEL
    await fake.close()
  })

  /** Runs the queued jobs (the product's registry) until none is left. */
  async function runJobs(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      const { claimed } = await runJobBatch(serviceSql(), { handlers: jobHandlers, budgetMs: 20_000 })
      if (claimed === 0) return
    }
  }

  const search = (key: string, query: string) => api.call('GET', `/search/threads?${query}`, { key })

  /** An inbox whose one thread says "new" but never "news", beside the shipping and refund threads. */
  async function launchMailbox(t: Tenant, options: { agent?: 'agent' | 'otherAgent'; domain?: { id: string; name: string } } = {}) {
    const inbox = await seedInbox(t, options)
    const launch = await seedThread(t.org.id, inbox.id, 'Product launch', [
      { from: 'pm@partner.com', text: 'Anything new about the launch date?', at: at(5) },
    ])
    const shipping = await seedThread(t.org.id, inbox.id, 'Where is my order?', [
      { from: 'angry@customer.com', text: 'My shipping is late and I am unhappy with the delivery.', at: at(6) },
    ])
    return { inbox, launch: launch.id, shipping: shipping.id }
  }

  it('finds a thread by meaning alone once its mail is embedded, hybrid by default, with scores from 0 to 1', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['threads:read'] })
    const box = await launchMailbox(t)
    const q = `q=news&inbox_id=${box.inbox.id}`

    // "news" is not a word of the thread: the words alone find nothing.
    expect((await search(key, `${q}&mode=keyword`)).body).toEqual({ data: [], search_type: 'keyword' })
    // The first search by meaning switches the organisation's mail on for embedding; nothing is embedded yet.
    const first = await search(key, q)
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ data: [], search_type: 'hybrid' })
    await runJobs()

    const [stored] = await serviceSql()<{ n: number; models: string[] }[]>`
      select count(*)::int as n, array_agg(distinct embedding_model) as models
      from agentry.email_message_vectors where org_id = ${t.org.id}`
    expect(stored).toEqual({ n: 2, models: ['fake-embed'] })

    const hybrid = await search(key, q)
    expect(hybrid.body.search_type).toBe('hybrid')
    expect(ids(hybrid)).toEqual([box.launch])
    expect(hybrid.body.data[0]).toMatchObject({ thread_id: box.launch, subject: 'Product launch', message_count: 1 })
    expect(hybrid.body.data[0].score).toBeGreaterThan(0)
    expect(hybrid.body.data[0].score).toBeLessThanOrEqual(1)

    const vector = await search(key, `${q}&mode=vector`)
    expect(vector.body.search_type).toBe('vector')
    expect(ids(vector)).toEqual([box.launch])
    const expected = cosine(
      fake.vectorOf('news'),
      fake.vectorOf(embeddedText({ subject: 'Product launch', extracted_text: 'Anything new about the launch date?' })),
    )
    expect(vector.body.data[0].score).toBeCloseTo(expected, 5)

    // Words and meaning together: the thread both rank first scores 1.
    const both = await search(key, `q=${encodeURIComponent('shipping delivery')}&inbox_id=${box.inbox.id}`)
    expect(both.body.search_type).toBe('hybrid')
    expect(ids(both)).toEqual([box.shipping])
    expect(both.body.data[0].score).toBe(1)
  })

  it('embeds mail stored after the switch through a job of its own, and records the usage as embeddings', async () => {
    const t = await createTenant()
    const key = await t.key()
    const box = await launchMailbox(t)
    await search(key, `q=news&inbox_id=${box.inbox.id}`)
    await runJobs()
    // The inbox's vectors are now kept in the API's memory, until a change moves their version.
    expect(ids(await search(key, `q=news&inbox_id=${box.inbox.id}&mode=vector`))).toEqual([box.launch])
    const later = await seedThread(t.org.id, box.inbox.id, 'Press', [{ text: 'Journalists want fresh news from us', at: at(9) }])
    const queued = await serviceSql()<{ payload: unknown }[]>`
      select payload from agentry.jobs where org_id = ${t.org.id} and kind = ${embedMessagesKind} and status = 'queued'`
    expect(queued).toEqual([{ payload: { message_id: later.messageIds[0] } }])
    await runJobs()
    expect(new Set(ids(await search(key, `q=news&inbox_id=${box.inbox.id}&mode=vector`)))).toEqual(new Set([box.launch, later.id]))
    const usage = await serviceSql()<{ provider: string; model: string }[]>`
      select provider, model from agentry.usage_records where org_id = ${t.org.id} group by provider, model`
    expect(usage).toEqual([{ provider: 'embeddings', model: 'fake-embed' }])
  })

  it('finishes an embedding job at once, embedding nothing, where no provider is configured', async () => {
    const t = await createTenant()
    const key = await t.key()
    const box = await launchMailbox(t)
    await search(key, `q=news&inbox_id=${box.inbox.id}`)
    const asked = fake.requests.length
    delete process.env.EMBEDDINGS_BASE_URL
    try {
      await runJobs()
    } finally {
      process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
    }
    const jobs = await serviceSql()<{ status: string }[]>`
      select status from agentry.jobs where org_id = ${t.org.id} and kind = ${embedMessagesKind}`
    expect(jobs).toEqual([{ status: 'succeeded' }])
    const [vectors] = await serviceSql()<{ n: number }[]>`
      select count(*)::int as n from agentry.email_message_vectors where org_id = ${t.org.id}`
    expect(vectors.n).toBe(0)
    // Only the query was embedded, by the search.
    expect(fake.requests.length).toBe(asked)
  })

  it('answers hybrid searches by keyword when the provider fails to embed the query, and vector searches with 502', async () => {
    const t = await createTenant()
    const key = await t.key()
    const box = await launchMailbox(t)
    fake.failNext(10, 400)
    try {
      const hybrid = await search(key, `q=shipping&inbox_id=${box.inbox.id}`)
      expect(hybrid.status).toBe(200)
      expect(hybrid.body.search_type).toBe('keyword')
      expect(ids(hybrid)).toEqual([box.shipping])
      const vector = await search(key, `q=shipping&inbox_id=${box.inbox.id}&mode=vector`)
      expect(vector.status).toBe(502)
      expect(vector.body.error.code).toBe('provider_error')
    } finally {
      fake.failNext(0)
    }
  })

  it('queues no embedding for an organisation that never searched by meaning', async () => {
    const t = await createTenant()
    const inbox = await seedInbox(t)
    await seedThread(t.org.id, inbox.id, 'Quiet', [{ text: 'Nobody searches this by meaning', at: at(1) }])
    const [jobs] = await serviceSql()<{ n: number }[]>`select count(*)::int as n from agentry.jobs where org_id = ${t.org.id}`
    expect(jobs.n).toBe(0)
  })

  it('answers by keyword, and says so, on a deployment without an embeddings provider', async () => {
    const t = await createTenant()
    const key = await t.key()
    const box = await launchMailbox(t)
    await search(key, `q=news&inbox_id=${box.inbox.id}`)
    await runJobs()
    delete process.env.EMBEDDINGS_BASE_URL
    try {
      for (const mode of ['hybrid', 'vector', 'keyword']) {
        expect((await search(key, `q=news&inbox_id=${box.inbox.id}&mode=${mode}`)).body).toEqual({ data: [], search_type: 'keyword' })
        const shipping = await search(key, `q=shipping&inbox_id=${box.inbox.id}&mode=${mode}`)
        expect(shipping.body.search_type).toBe('keyword')
        expect(ids(shipping)).toEqual([box.shipping])
      }
    } finally {
      process.env.EMBEDDINGS_BASE_URL = fake.baseUrl
    }
  })

  it("never finds another organisation's or another inbox's threads by meaning, and keeps an agent key to its inboxes", async () => {
    const t = await createTenant()
    const domain = await seedDomain(t)
    const mine = await launchMailbox(t, { agent: 'agent', domain })
    const theirs = await launchMailbox(t, { agent: 'otherAgent', domain })
    const elsewhere = await launchMailbox(t)
    const stranger = await createTenant()
    const strangers = await launchMailbox(stranger)
    const orgKey = await t.key({ scopes: ['threads:read'] })
    const strangerKey = await stranger.key()
    await search(orgKey, `q=news&domain_id=${domain.id}`)
    await search(strangerKey, `q=news&inbox_id=${strangers.inbox.id}`)
    await runJobs()

    for (const mode of ['hybrid', 'vector']) {
      expect(new Set(ids(await search(orgKey, `q=news&domain_id=${domain.id}&mode=${mode}`)))).toEqual(
        new Set([mine.launch, theirs.launch]),
      )
      expect(ids(await search(orgKey, `q=news&inbox_id=${elsewhere.inbox.id}&mode=${mode}`))).toEqual([elsewhere.launch])
      // Holding only the scope the route needs: no inboxes:read.
      const agentKey = await t.key({ agent: 'agent', scopes: ['threads:read'] })
      expect(ids(await search(agentKey, `q=news&domain_id=${domain.id}&mode=${mode}`))).toEqual([mine.launch])
      expect(ids(await search(agentKey, `q=news&inbox_id=${theirs.inbox.id}&mode=${mode}`))).toEqual([])
      expect(ids(await search(strangerKey, `q=news&domain_id=${domain.id}&mode=${mode}`))).toEqual([])
      expect(ids(await search(strangerKey, `q=news&inbox_id=${mine.inbox.id}&mode=${mode}`))).toEqual([])
      expect(ids(await search(orgKey, `q=news&inbox_id=${strangers.inbox.id}&mode=${mode}`))).toEqual([])
    }
  })

  it('reads message vectors only under the rules of their messages', async () => {
    const t = await createTenant()
    const box = await launchMailbox(t, { agent: 'agent' })
    const other = await launchMailbox(t, { agent: 'otherAgent' })
    await search(await t.key(), `q=news&inbox_id=${box.inbox.id}`)
    await runJobs()
    const visible = async (claims: { agent_id: string | null; scopes: string[] }, orgId = t.org.id) =>
      serviceSql().begin(async (tx) => {
        await tx`set local role authenticated`
        await tx`select set_config('request.jwt.claims', ${JSON.stringify({ role: 'authenticated', sub: null, org_id: orgId, key_id: null, ...claims })}, true)`
        const rows = await tx<{ inbox_id: string }[]>`select distinct inbox_id from agentry.email_message_vectors`
        return new Set(rows.map((r) => r.inbox_id))
      })
    expect(await visible({ agent_id: null, scopes: ['threads:read'] })).toEqual(new Set([box.inbox.id, other.inbox.id]))
    expect(await visible({ agent_id: null, scopes: ['messages:read'] })).toEqual(new Set([box.inbox.id, other.inbox.id]))
    expect(await visible({ agent_id: null, scopes: ['inboxes:read'] })).toEqual(new Set())
    expect(await visible({ agent_id: t.agent.id, scopes: ['threads:read'] })).toEqual(new Set([box.inbox.id]))
    expect(await visible({ agent_id: null, scopes: ['threads:read'] }, (await createTenant()).org.id)).toEqual(new Set())
  })
})

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return dot / Math.sqrt(na * nb)
}
