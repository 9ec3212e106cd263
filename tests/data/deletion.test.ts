import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests, stopClockForTests } from '../../functions/_core/clock.ts'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { hashToken } from '../../functions/data/deletion-queries.ts'
import { batchSize, deleteDataJobWith, deleteDataKind } from '../../functions/data/deletion-job.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { createVictim, rowsOf } from '../harness/victim.ts'
import { inboxContents, seedAgentKey, seedDelivery, seedDmarcReport, seedInbox, seedMessageVector, seedRun } from './fixtures.ts'

// A runner of deletion jobs only: no other file enqueues them, so it never takes another file's work. Each
// run gives its turn back after one full batch, so every deletion larger than a batch goes through several jobs.
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>

beforeAll(async () => {
  api = await startApi()
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, {
    handlers: { [deleteDataKind]: deleteDataJobWith({ sliceMs: 0 }) },
    pollMs: 50,
    onError: (e) => console.error(e),
  })
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
})

afterEach(() => resetClockForTests())

const deleterOf = (t: Tenant) => t.key({ scopes: ['data:delete'] })

async function request(key: string, body: Record<string, unknown>) {
  return api.call('POST', '/data/deletion-request', { key, body })
}

async function confirm(key: string, id: string, token: string) {
  return api.call('POST', `/data/deletion-request/${id}/confirm`, { key, body: { confirmation_token: token } })
}

/** Waits until the request has finished, and answers it as GET shows it. */
async function finished(key: string, id: string) {
  return eventually(
    async () => {
      const res = await api.call('GET', `/data/deletion-request/${id}`, { key })
      return ['completed', 'failed'].includes(res.body.data?.status) && res.body.data
    },
    'the deletion has finished',
    60_000,
  )
}

describe("deleting an inbox's messages before a date", () => {
  it('previews exact counts, and once confirmed deletes only the older messages of that inbox and the threads left empty', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const inbox = await seedInbox(t, [
      { at: '2024-06-01T00:00:00Z', thread: 0, attachments: 2 },
      { at: '2024-07-01T00:00:00Z', thread: 0 },
      { at: '2024-08-01T00:00:00Z', thread: 1, attachments: 1 },
      { at: '2025-03-01T00:00:00Z', thread: 1, attachments: 1 },
    ])
    const other = await seedInbox(t, [{ at: '2024-01-01T00:00:00Z', thread: 0, attachments: 1 }])
    await seedDelivery(t, inbox.id, inbox.messageIds[0])
    await seedDelivery(t, other.id, other.messageIds[0])
    await seedMessageVector(t, inbox.id, inbox.messageIds[0])
    await seedMessageVector(t, inbox.id, inbox.messageIds[3])
    await seedMessageVector(t, other.id, other.messageIds[0])

    const made = await request(key, { scope: 'messages', inbox_id: inbox.id, before: '2025-01-01T00:00:00Z' })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    const data = made.body.data
    expect(data).toMatchObject({
      scope: 'messages',
      inbox_id: inbox.id,
      before: '2025-01-01T00:00:00.000Z',
      status: 'pending',
      preview: { attachments: 3, delivery_events: 1, message_vectors: 1, messages: 3, threads: 1 },
      done: {},
    })
    expect(data.confirmation_token).toMatch(/^dct_[0-9a-f]{64}$/)
    expect(new Date(data.expires_at).getTime() - new Date(data.created_at).getTime()).toBe(60 * 60 * 1000)
    // Only the token's hash is kept.
    const [stored] = await serviceSql()<{ token_hash: Uint8Array }[]>`
      select token_hash from agentry.data_deletion_requests where id = ${data.id}`
    expect(Buffer.from(stored.token_hash)).toEqual(Buffer.from(hashToken(data.confirmation_token)))
    // Nothing goes before the confirmation.
    expect((await inboxContents(inbox.id)).messages).toHaveLength(4)

    const confirmed = await confirm(key, data.id, data.confirmation_token)
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(202)
    expect(confirmed.body.data.status).toBe('confirmed')

    const done = await finished(key, data.id)
    const counts = { attachments: 3, delivery_events: 1, message_vectors: 1, messages: 3, threads: 1 }
    expect(done).toMatchObject({ status: 'completed', preview: counts })
    expect(done.done).toEqual(counts)
    expect(done.completed_at).not.toBeNull()
    expect(await inboxContents(inbox.id)).toEqual({
      inboxes: 1,
      threads: [{ id: inbox.threadIds[1], message_count: 1 }],
      messages: [inbox.messageIds[3]],
      attachments: 1,
      deliveryEvents: 0,
      // A suppression protects the inbox's sending whatever mail is kept.
      suppressions: 1,
    })
    expect(await inboxContents(other.id)).toEqual({
      inboxes: 1,
      threads: [{ id: other.threadIds[0], message_count: 1 }],
      messages: other.messageIds,
      attachments: 1,
      deliveryEvents: 1,
      suppressions: 1,
    })
    expect(await vectorsOf(inbox.id)).toEqual([inbox.messageIds[3]])
    expect(await vectorsOf(other.id)).toEqual(other.messageIds)
  })

  it('summarises a thread that keeps some messages from what is left: count, last message, snippet, attachments, participants', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const inbox = await seedInbox(t, [
      { at: '2024-06-01T00:00:00Z', thread: 0, attachments: 1, from: 'old@example.com', text: 'Old news' },
      { at: '2025-03-01T00:00:00Z', thread: 0, from: 'new@example.com', text: '  Fresh\n  words  ' },
    ])
    // What the thread showed while the old message was in it.
    await serviceSql()`
      update agentry.email_threads set snippet = 'Old news', has_attachments = true, last_message_at = '2024-06-01',
        last_direction = 'outbound', participants = '{old@example.com,new@example.com}'
      where id = ${inbox.threadIds[0]}`
    const made = await request(key, { scope: 'messages', inbox_id: inbox.id, before: '2025-01-01T00:00:00Z' })
    expect((await confirm(key, made.body.data.id, made.body.data.confirmation_token)).status).toBe(202)
    expect((await finished(key, made.body.data.id)).status).toBe('completed')
    const [thread] = await serviceSql()`
      select message_count, last_message_at, last_direction, snippet, has_attachments, participants
      from agentry.email_threads where id = ${inbox.threadIds[0]}`
    expect(thread).toEqual({
      message_count: 1,
      last_message_at: new Date('2025-03-01T00:00:00Z'),
      last_direction: 'inbound',
      snippet: 'Fresh words',
      has_attachments: false,
      participants: ['new@example.com'],
    })
  })
})

/** The messages of the inbox that keep a search embedding. */
async function vectorsOf(inboxId: string): Promise<string[]> {
  const rows = await serviceSql()<{ message_id: string }[]>`
    select v.message_id from agentry.email_message_vectors v join agentry.email_messages m on m.id = v.message_id
    where v.inbox_id = ${inboxId} order by m.created_at`
  return rows.map((r) => r.message_id)
}

describe('deleting in batches', () => {
  it(`deletes more than one batch of ${batchSize} messages, a batch a run, recording the progress as it goes`, async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const inbox = await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    const n = batchSize * 2 + 7
    await serviceSql()`
      insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, status, created_at)
      select ${t.org.id}, ${inbox.id}, ${inbox.threadIds[0]}, 'inbound', 'bulk-' || i || '@example.com', 'received', '2024-06-02'
      from generate_series(1, ${n - 1}::integer) i`
    const made = await request(key, { scope: 'messages', inbox_id: inbox.id })
    expect(made.body.data.preview).toEqual({ attachments: 0, delivery_events: 0, message_vectors: 0, messages: n, threads: 1 })
    expect((await confirm(key, made.body.data.id, made.body.data.confirmation_token)).status).toBe(202)
    const done = await finished(key, made.body.data.id)
    expect(done.done).toEqual({ attachments: 0, delivery_events: 0, message_vectors: 0, messages: n, threads: 1 })
    // Two full batches of messages, each ending its job's run; the third run deletes the rest and the thread.
    const jobs = await serviceSql()<{ status: string; progress: { done: number; total: number } }[]>`
      select status, progress from agentry.jobs where kind = ${deleteDataKind} and payload ->> 'request_id' = ${made.body.data.id}
      order by created_at`
    expect(jobs).toEqual([
      { status: 'succeeded', progress: { done: batchSize, total: n + 1 } },
      { status: 'succeeded', progress: { done: 2 * batchSize, total: n + 1 } },
      { status: 'succeeded', progress: { done: n + 1, total: n + 1 } },
    ])
    expect(await inboxContents(inbox.id)).toEqual({
      inboxes: 1,
      threads: [],
      messages: [],
      attachments: 0,
      deliveryEvents: 0,
      suppressions: 0,
    })
  })
})

describe('deleting an inbox', () => {
  it('deletes the inbox with its threads, messages and attachments, and no other inbox', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const inbox = await seedInbox(t, [
      { at: '2024-06-01T00:00:00Z', thread: 0, attachments: 1 },
      { at: '2025-06-01T00:00:00Z', thread: 1 },
    ])
    const other = await seedInbox(t, [{ at: '2024-01-01T00:00:00Z', thread: 0, attachments: 2 }])
    await seedDelivery(t, inbox.id, inbox.messageIds[1])
    await seedDelivery(t, other.id, other.messageIds[0])
    await seedMessageVector(t, inbox.id, inbox.messageIds[1])
    await seedMessageVector(t, other.id, other.messageIds[0])
    await serviceSql()`insert into agentry.email_sender_lists (org_id, inbox_id, list, entry) values (${t.org.id}, ${inbox.id}, 'allow', 'partner.example')`
    const made = await request(key, { scope: 'inbox', inbox_id: inbox.id })
    const everything = {
      attachments: 1,
      delivery_events: 1,
      message_vectors: 1,
      messages: 2,
      threads: 2,
      suppressions: 1,
      sender_lists: 1,
      inboxes: 1,
    }
    expect(made.body.data.preview).toEqual(everything)
    expect((await confirm(key, made.body.data.id, made.body.data.confirmation_token)).status).toBe(202)
    const done = await finished(key, made.body.data.id)
    expect(done.done).toEqual(everything)
    expect(await inboxContents(inbox.id)).toEqual({
      inboxes: 0,
      threads: [],
      messages: [],
      attachments: 0,
      deliveryEvents: 0,
      suppressions: 0,
    })
    expect(await inboxContents(other.id)).toMatchObject({ attachments: 2, messages: other.messageIds, deliveryEvents: 1, suppressions: 1 })
    expect(await vectorsOf(inbox.id)).toEqual([])
    expect(await vectorsOf(other.id)).toEqual(other.messageIds)
  })
})

/** The tables an organization deletion empties; every other table of the organisation's is kept as it was. */
const emptied = [
  'agent_public_keys',
  'agents',
  'budgets',
  'conversations',
  'deployments',
  'dataset_rows',
  'datasets',
  'dmarc_records',
  'dmarc_reports',
  'email_attachments',
  'email_delivery_events',
  'email_domains',
  'email_inboxes',
  'email_message_vectors',
  'email_messages',
  'email_sender_lists',
  'email_suppressions',
  'email_threads',
  'events',
  'idempotent_requests',
  'judges',
  'knowledge_base_agents',
  'knowledge_bases',
  'knowledge_chunks',
  'knowledge_items',
  'messages',
  'run_events',
  'run_judgements',
  'run_steps',
  'runs',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_endpoints',
]

describe("deleting an organisation's data", () => {
  it("empties every kind of its tenant content, keeps the organisation, its tokens and audit log, and leaves another organisation's data alone", async () => {
    const { tenant: t } = await createVictim()
    const { tenant: bystander } = await createVictim()
    const inbox = await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0, attachments: 1 }])
    await seedDelivery(t, inbox.id, inbox.messageIds[0])
    await seedMessageVector(t, inbox.id, inbox.messageIds[0])
    await seedDmarcReport(t)
    await seedAgentKey(t, t.agent.id)
    await seedRun(t)
    await serviceSql()`insert into agentry.email_sender_lists (org_id, list, entry) values (${t.org.id}, 'block', 'spam.example')`
    const bystanderInbox = await seedInbox(bystander, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    await seedMessageVector(bystander, bystanderInbox.id, bystanderInbox.messageIds[0])
    await seedDmarcReport(bystander)
    await seedAgentKey(bystander, bystander.agent.id)
    await seedRun(bystander)
    const bystanderRows = await rowsOf(bystander.org.id)
    const key = await deleterOf(t)

    const made = await request(key, { scope: 'organization' })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    expect(made.body.data.preview).toEqual({
      attachments: 1,
      delivery_events: 1,
      suppressions: 1,
      message_vectors: 1,
      messages: 1,
      threads: 1,
      sender_lists: 1,
      inboxes: 2,
      dmarc_records: 1,
      dmarc_reports: 1,
      domains: 1,
      knowledge_chunks: 1,
      knowledge_items: 1,
      knowledge_bases: 1,
      dataset_rows: 1,
      datasets: 1,
      conversation_messages: 1,
      conversations: 1,
      webhook_attempts: 1,
      webhook_deliveries: 1,
      events: 1,
      webhook_endpoints: 1,
      run_judgements: 1,
      // The stored one the fixture adds: a run's events are made from the run and its steps since migration 49.
      run_events: 1,
      run_steps: 1,
      runs: 1,
      judges: 1,
      deployments: 1,
      budgets: 1,
      idempotent_requests: 0,
      agent_public_keys: 1,
      agents: 2,
    })
    const before = await rowsOf(t.org.id)
    const confirmed = await confirm(key, made.body.data.id, made.body.data.confirmation_token)
    expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(202)

    // The caller can still read the status: its organisation token and the request are kept.
    const done = await finished(key, made.body.data.id)
    expect(done.status).toBe('completed')
    expect(done.done).toEqual(made.body.data.preview)

    const after = await rowsOf(t.org.id)
    for (const table of emptied) {
      expect((before[table] as unknown[]).length + (table === 'idempotent_requests' ? 1 : 0), `${table} before`).toBeGreaterThan(0)
      expect(after[table], table).toEqual([])
    }
    // Whatever else holds the organisation's rows, a table added later included, is emptied too unless kept on purpose.
    const kept = [
      'api_keys',
      'audit_log',
      'data_deletion_requests',
      'email_send_counts',
      'environments',
      'jobs',
      'members',
      // The organisation's rate-limit window: deleting data does not hand it a fresh one.
      'rate_limits',
      // Billing: the usage ledger, its daily sums and spending totals.
      'spend_totals',
      'usage_daily',
      'usage_records',
    ]
    for (const [table, rows] of Object.entries(after))
      if (!kept.includes(table) && table !== 'organisations') expect(rows, table).toEqual([])
    expect(after.organisations).toEqual(before.organisations)
    expect(after.environments).toEqual(before.environments)
    expect(after.usage_records).toHaveLength(2)
    expect((after.usage_records as { run_id: string | null }[]).map((u) => u.run_id)).toEqual([null, null])
    expect((after.api_keys as { agent_id: string | null }[]).map((k) => k.agent_id)).toEqual([null, null])
    expect((after.audit_log as unknown[]).length).toBeGreaterThanOrEqual((before.audit_log as unknown[]).length)
    expect(after.data_deletion_requests).toHaveLength(1)
    expect(await rowsOf(bystander.org.id)).toEqual(bystanderRows)
  })

  it('is recorded in the audit log before any data goes', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    const made = await request(key, { scope: 'organization' })
    const id = made.body.data.id
    expect((await confirm(key, id, made.body.data.confirmation_token)).status).toBe(202)
    await finished(key, id)
    const [entry] = await serviceSql()<{ status: number; created_at: Date; started_at: Date }[]>`
      select a.status, a.created_at, r.started_at from agentry.audit_log a, agentry.data_deletion_requests r
      where a.org_id = ${t.org.id} and a.method = 'POST' and a.path = ${`/api/v1/data/deletion-request/${id}/confirm`} and r.id = ${id}`
    expect(entry.status).toBe(202)
    expect(entry.created_at.getTime()).toBeLessThan(entry.started_at.getTime())
  })

  it("lets an agent key delete its own agent's inbox, and answers 404 for another agent's", async () => {
    const t = await createTenant()
    const key = await t.key({ agent: 'agent', scopes: ['data:delete'] })
    const own = await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    const others = await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    await serviceSql()`update agentry.email_inboxes set agent_id = ${t.agent.id} where id = ${own.id}`
    await serviceSql()`update agentry.email_inboxes set agent_id = ${t.otherAgent.id} where id = ${others.id}`
    expect((await request(key, { scope: 'inbox', inbox_id: others.id })).status).toBe(404)
    const made = await request(key, { scope: 'inbox', inbox_id: own.id })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    // Another agent's key does not see the request.
    const stranger = await t.key({ agent: 'otherAgent', scopes: ['data:delete'] })
    expect((await api.call('GET', `/data/deletion-request/${made.body.data.id}`, { key: stranger })).status).toBe(404)
  })

  it('refuses an agent key: an agent may delete only its own inboxes', async () => {
    const t = await createTenant()
    const res = await request(await t.key({ agent: 'agent', scopes: ['data:delete'] }), { scope: 'organization' })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('insufficient_scope')
  })
})

describe('confirming', () => {
  it('answers 410 once the token has expired, shows the request as expired, and lets a new one be made', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    stopClockForTests(Date.now())
    const made = await request(key, { scope: 'organization' })
    advanceClockForTests(60 * 60 * 1000 + 1)
    const res = await confirm(key, made.body.data.id, made.body.data.confirmation_token)
    expect(res.status).toBe(410)
    expect(res.body.error).toEqual({ code: 'gone', message: 'The confirmation token has expired; make a new deletion request.' })
    expect((await api.call('GET', `/data/deletion-request/${made.body.data.id}`, { key })).body.data.status).toBe('expired')
    expect((await request(key, { scope: 'organization' })).status).toBe(201)
  })

  it('answers 401 to a token that is not the request’s, and deletes nothing', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const made = await request(key, { scope: 'organization' })
    const res = await confirm(key, made.body.data.id, `dct_${'0'.repeat(64)}`)
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('unauthorized')
    expect((await api.call('GET', `/data/deletion-request/${made.body.data.id}`, { key })).body.data.status).toBe('pending')
  })

  it('answers 409 to a second confirmation', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const made = await request(key, { scope: 'organization' })
    expect((await confirm(key, made.body.data.id, made.body.data.confirmation_token)).status).toBe(202)
    expect((await confirm(key, made.body.data.id, made.body.data.confirmation_token)).status).toBe(409)
  })
})

describe('requesting', () => {
  it('allows one active request per organisation: a second answers 409 until the first has finished', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const first = await request(key, { scope: 'organization' })
    const second = await request(key, { scope: 'organization' })
    expect(second.status).toBe(409)
    expect(second.body.error.code).toBe('conflict')
    await confirm(key, first.body.data.id, first.body.data.confirmation_token)
    await finished(key, first.body.data.id)
    expect((await request(key, { scope: 'organization' })).status).toBe(201)
  })

  it('needs data:delete or *: a key with *:write or only another section’s scopes gets 403', async () => {
    const t = await createTenant()
    for (const scopes of [['*:write'], ['messages:write', 'inboxes:write']]) {
      const res = await request(await t.key({ scopes }), { scope: 'organization' })
      expect(res.status).toBe(403)
      expect(res.body.error).toEqual({ code: 'insufficient_scope', message: 'This API key lacks the required scope "data:delete".' })
    }
    expect((await request(await t.key({ scopes: ['*'] }), { scope: 'organization' })).status).toBe(201)
  })

  it('issues keys with data:delete through the keys API, and refuses *:delete', async () => {
    const t = await createTenant()
    const admin = await t.key({ scopes: ['*'] })
    const issued = await api.call('POST', '/agent/api-keys', { key: admin, body: { name: 'deleter', scopes: ['data:delete'] } })
    expect(issued.status, JSON.stringify(issued.body)).toBe(201)
    const wildcard = await api.call('POST', '/agent/api-keys', { key: admin, body: { name: 'x', scopes: ['*:delete'] } })
    expect(wildcard.status).toBe(400)
  })

  it('refuses bad input with 400 and another organisation’s inbox with 404', async () => {
    const t = await createTenant()
    const key = await deleterOf(t)
    const inbox = await seedInbox(t, [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    const stranger = await seedInbox(await createTenant(), [{ at: '2024-06-01T00:00:00Z', thread: 0 }])
    for (const body of [
      { scope: 'inbox' },
      { scope: 'messages' },
      { scope: 'inbox', inbox_id: inbox.id, before: '2025-01-01' },
      { scope: 'organization', inbox_id: inbox.id },
      { scope: 'messages', inbox_id: inbox.id, before: 'yesterday' },
      { scope: 'messages', inbox_id: inbox.id, before: '2025-02-30' },
      { scope: 'messages', inbox_id: inbox.id, before: '2025-02-30T00:00:00Z' },
      { scope: 'everything' },
    ]) {
      const res = await request(key, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
    }
    const res = await request(key, { scope: 'inbox', inbox_id: stranger.id })
    expect(res.status).toBe(404)
    expect(await inboxContents(stranger.id)).toMatchObject({ inboxes: 1, messages: stranger.messageIds })
  })
})
