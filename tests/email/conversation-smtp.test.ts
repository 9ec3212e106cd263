import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { closeDatabase } from '../../functions/_core/db.ts'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { sendMessageJob, sendMessageKind } from '../../functions/email/outbound/delivery.ts'
import { smtpRelay } from '../../functions/email/outbound/smtp-relay.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createAgent, createOrganisation } from '../../scripts/lib/admin.ts'
import { applyMigrations } from '../../scripts/lib/migrations.ts'
import { dnsResolver, type SmtpIngress, startSmtpIngress } from '../../scripts/lib/smtp-ingress.ts'
import { eventually } from '../_core/jobs/helpers.ts'
import { callApi, startApi, type TestApi } from '../harness/api.ts'
import { startDnsServer, type TestDnsServer } from '../harness/dns-server.ts'
import { type ApiProcess, startApiProcess } from '../harness/processes.ts'
import { createTenant, isolateDatabase } from '../harness/tenants.ts'
import { verifiedDomain } from './outbound/arrange.ts'

// Two installations on one machine, each with a database, an API, a job runner and an SMTP ingress of its
// own: Alice's organisation on the first, Bob's on the second. An inbox that lives in the sender's own
// database would be delivered locally, so only separate databases make the mail cross SMTP. Alice's runner
// relays through SMTP_URL (this process's environment) to Bob's ingress; Bob's, in the same process, has the
// same relay pointed back at Alice's. The DNS server on loopback publishes Alice's DKIM key for Bob's checks.
let dropA: () => Promise<void>
let dbB: { url: string; sql: postgres.Sql; drop(): Promise<void> }
let apiA: TestApi
let apiB: ApiProcess
let dns: TestDnsServer
let ingressA: SmtpIngress
let ingressB: SmtpIngress
const runners: { runner: RunningJobRunner; sql: postgres.Sql }[] = []
const pools: postgres.Sql[] = []

/** A database of its own on the run's server, migrated: the second installation's. */
async function secondDatabase() {
  const server = inject('databaseUrl')
  const name = `conversation_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(server, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = server.replace(/\/postgres$/, `/${name}`)
  await applyMigrations(url)
  const sql = postgres(url, { max: 4, onnotice: () => {} })
  return {
    url,
    sql,
    drop: async () => {
      await sql.end()
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

const pool = (url: string) => {
  const sql = postgres(url, { max: 4, onnotice: () => {}, connection: { TimeZone: 'UTC' } })
  pools.push(sql)
  return sql
}

beforeAll(async () => {
  const a = await isolateDatabase()
  dropA = a.drop
  dbB = await secondDatabase()
  dns = await startDnsServer()
  apiA = await startApi()
  apiB = await startApiProcess({ DATABASE_URL: dbB.url })
  ingressA = await startSmtpIngress(pool(a.url), { port: 0, resolver: dnsResolver(dns.address), onError: (e) => console.error(e) })
  ingressB = await startSmtpIngress(pool(dbB.url), { port: 0, resolver: dnsResolver(dns.address), onError: (e) => console.error(e) })
  process.env.SMTP_URL = `smtp://127.0.0.1:${ingressB.port}`
  const runnerA = pool(a.url)
  runners.push({ runner: startJobRunner(runnerA, { handlers: jobHandlers, pollMs: 50, onError: (e) => console.error(e) }), sql: runnerA })
  const runnerB = pool(dbB.url)
  const handlersB = { ...jobHandlers, [sendMessageKind]: sendMessageJob({ relay: () => smtpRelay(`smtp://127.0.0.1:${ingressA.port}`) }) }
  runners.push({ runner: startJobRunner(runnerB, { handlers: handlersB, pollMs: 50, onError: (e) => console.error(e) }), sql: runnerB })
}, 120_000)

afterAll(async () => {
  delete process.env.SMTP_URL
  for (const r of runners) await r.runner.stop()
  await Promise.all([ingressA?.close(), ingressB?.close(), apiA?.close(), apiB?.stop(), dns?.close()])
  await Promise.all(pools.map((p) => p.end()))
  await closeDatabase()
  await dbB?.drop()
  await dropA?.()
})

interface Side {
  sql: postgres.Sql
  key: string
  orgId: string
  inbox: { id: string; address: string }
  send(body: Record<string, unknown>): Promise<{ status: number; body: any }>
}

/** Alice: an organisation on the first installation, her agent's inbox on a verified domain of its own. */
async function alice(): Promise<Side> {
  const t = await createTenant()
  const domain = await verifiedDomain(t)
  const chunks = `v=DKIM1; k=rsa; p=${domain.publicKey}`.match(/.{1,250}/g) as string[]
  dns.set({ txt: { [`${domain.selector}._domainkey.${domain.name}`]: [chunks] } })
  const sql = pool(process.env.DATABASE_URL as string)
  return side(
    sql,
    t.org.id,
    t.agent.id,
    await t.key({ agent: 'agent' }),
    { id: domain.id, name: domain.name, localPart: 'alice' },
    apiA.base,
  )
}

/** Bob: an organisation on the second installation, his agent's inbox on the shared domain. */
async function bob(): Promise<Side> {
  const org = await createOrganisation(dbB.sql, { name: 'Bob’s organisation', rateLimitPerMinute: 1_000_000 })
  const agent = await createAgent(dbB.sql, { orgId: org.id, name: 'Bob' })
  const { key } = await issueKey(dbB.sql, { orgId: org.id, agentId: agent.id, mode: 'live', name: 'bob', scopes: ['*'], expiresAt: null })
  return side(dbB.sql, org.id, agent.id, key, { id: null, name: 'agents.localhost', localPart: 'bob' }, apiB.base)
}

async function side(
  sql: postgres.Sql,
  orgId: string,
  agentId: string,
  key: string,
  box: { id: string | null; name: string; localPart: string },
  base: string,
): Promise<Side> {
  const [inbox] = await sql<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain_id, domain, local_part, name, agent_id)
    values (${orgId}, ${box.id}, ${box.name}, ${box.localPart}, ${box.localPart}, ${agentId}) returning id::text, address`
  // Events nobody listens to are not written.
  await sql`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${orgId}, 'https://hooks.example.com/mail', ${['message.*']}, 'whsec_test')`
  return {
    sql,
    key,
    orgId,
    inbox,
    send: (body) => callApi(base, 'POST', '/messages/send', { key, body: { inbox_id: inbox.id, ...body } }),
  }
}

interface Row {
  id: string
  thread_id: string
  direction: string
  status: string
  subject: string
  message_id_header: string
  in_reply_to: string | null
  references: string[]
  from_address: string
  extracted_text: string | null
  auth: { dkim?: string } | null
}

const messagesOf = (s: Side) =>
  s.sql<Row[]>`
    select id::text, thread_id::text, direction, status, subject, message_id_header, in_reply_to, "references", from_address,
      extracted_text, auth
    from agentry.email_messages where inbox_id = ${s.inbox.id} order by created_at, id`

const threadsOf = (s: Side) =>
  s.sql<{ id: string; message_count: number; subject: string; last_direction: string }[]>`
    select id::text, message_count, subject, last_direction from agentry.email_threads where inbox_id = ${s.inbox.id}`

/** Waits until `s`'s inbox holds `n` messages and the last one sent from it has left over SMTP. */
const holds = (s: Side, n: number) =>
  eventually(async () => {
    const rows = await messagesOf(s)
    return rows.length === n && rows.every((r) => r.direction === 'inbound' || r.status === 'sent') && rows
  }, `${s.inbox.address} holds ${n} messages`)

describe('two agents on two installations', () => {
  it('hold a threaded conversation through real SMTP: one thread on each side, replies chained and unquoted', async () => {
    const a = await alice()
    const b = await bob()

    const opening = await a.send({ to: b.inbox.address, subject: 'Lunch on Friday?', text: 'Are you free at noon?' })
    expect(opening.status, JSON.stringify(opening.body)).toBe(202)
    const [sent] = await holds(a, 1)
    expect(sent).toMatchObject({ direction: 'outbound', status: 'sent' })
    const [arrived] = await holds(b, 1)
    expect(arrived).toMatchObject({
      direction: 'inbound',
      subject: 'Lunch on Friday?',
      message_id_header: sent.message_id_header,
      from_address: a.inbox.address,
      extracted_text: 'Are you free at noon?',
    })
    // Bob's ingress checked Alice's DKIM signature against the key the DNS server publishes.
    expect(arrived.auth?.dkim).toBe('pass')
    const [received] = await b.sql<{ data: any }[]>`
      select data from agentry.events where org_id = ${b.orgId} and type = 'message.received'`
    expect(received.data).toMatchObject({ inbox_id: b.inbox.id, thread_id: arrived.thread_id, message_id: arrived.id })

    const answer = await b.send({
      to: a.inbox.address,
      subject: 'Re: Lunch on Friday?',
      text: `Yes, noon works.\n\nOn Friday, ${a.inbox.address} wrote:\n> Are you free at noon?\n`,
      thread_id: arrived.thread_id,
    })
    expect(answer.status, JSON.stringify(answer.body)).toBe(202)
    expect(answer.body.data.thread_id).toBe(arrived.thread_id)
    const [, answered] = await holds(b, 2)
    const [, answerArrived] = await holds(a, 2)
    expect(answerArrived).toMatchObject({
      direction: 'inbound',
      thread_id: sent.thread_id,
      subject: 'Re: Lunch on Friday?',
      message_id_header: answered.message_id_header,
      in_reply_to: sent.message_id_header,
      references: [sent.message_id_header],
      from_address: b.inbox.address,
      extracted_text: 'Yes, noon works.',
    })

    const again = await a.send({
      to: b.inbox.address,
      subject: 'Re: Re: Lunch on Friday?',
      text: `Great, see you there.\n\nOn Friday, ${b.inbox.address} wrote:\n> Yes, noon works.\n`,
      thread_id: sent.thread_id,
    })
    expect(again.status, JSON.stringify(again.body)).toBe(202)
    const [, , last] = await holds(a, 3)
    const [, , lastArrived] = await holds(b, 3)
    expect(last).toMatchObject({ subject: 'Re: Lunch on Friday?', in_reply_to: answered.message_id_header })
    expect(lastArrived).toMatchObject({
      direction: 'inbound',
      thread_id: arrived.thread_id,
      subject: 'Re: Lunch on Friday?',
      message_id_header: last.message_id_header,
      in_reply_to: answered.message_id_header,
      references: [sent.message_id_header, answered.message_id_header],
      extracted_text: 'Great, see you there.',
    })

    for (const s of [a, b]) {
      const threads = await threadsOf(s)
      expect(threads).toEqual([expect.objectContaining({ message_count: 3, subject: 'Lunch on Friday?' })])
    }
    expect((await threadsOf(a))[0].last_direction).toBe('outbound')
    expect((await threadsOf(b))[0].last_direction).toBe('inbound')
    expect((await messagesOf(a)).map((m) => m.direction)).toEqual(['outbound', 'inbound', 'outbound'])
    expect((await messagesOf(b)).map((m) => m.direction)).toEqual(['inbound', 'outbound', 'inbound'])
  })
})
