// The email scenario of `npm run bench`, each figure beside what the SMTP protocol alone costs on the same
// loopback with the same nodemailer client:
// - inbound: BENCH_EMAILS messages over a pooled SMTP client to the ingress (receiveMime: parsed, checked,
//   threaded, stored, message.received raised, 250 only after commit), against a bare smtp-server that only
//   reads each message. A tenth of the messages open conversations; the rest reply into them by References.
//   DNS answers "no such record" at once, so SPF, DKIM and DMARC cost their lookups' handling, not a network.
// - send: BENCH_SENDS POST /messages/send through the API and the job runner relaying to SMTP_URL, a local
//   smtp-server that discards, timed from the first request until the sink has accepted every message;
//   against a nodemailer client pooled as the relay's is sending the same number straight to the sink, as
//   many at once as the runner runs jobs.
import { readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import nodemailer from 'nodemailer'
import type Mail from 'nodemailer/lib/mailer'
import postgres from 'postgres'
import { SMTPServer } from 'smtp-server'
import { startJobRunner } from '../../functions/_core/jobs/runner.ts'
import type { DnsResolver } from '../../functions/email/inbound/verdicts.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createOrganisation } from './admin.ts'
import { startSmtpIngress } from './smtp-ingress.ts'

export interface EmailFigures {
  inbound: {
    messages: number
    ingress_per_second: number
    bare_smtp_per_second: number
    ingress_process_cpu_ms_per_message: number
    bare_process_cpu_ms_per_message: number
    /** The database server's CPU a message while the ingress ran (null when it runs on another machine). */
    database_cpu_ms_per_message: number | null
    stored: number
    events: number
    threads: number
  }
  send: { messages: number; api_per_second: number; direct_per_second: number; p50_ms: number; p99_ms: number; sent: number }
}

const noRecords: DnsResolver = async (name) => {
  throw Object.assign(new Error(`no record for ${name}`), { code: 'ENOTFOUND' })
}

/** An organisation whose plan leaves sending unlimited for the run, with a full-access key and one inbox. */
async function seedEmailOrganisation(sql: postgres.Sql, localPart: string) {
  await sql`
    insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests, max_emails_per_hour, max_emails_per_day)
    values ('bench-email', 'Bench email', 100000000, 1000, 100000000, 100000000)
    on conflict (id) do nothing`
  const org = await createOrganisation(sql, { name: `Bench email ${localPart}`, plan: 'bench-email', rateLimitPerMinute: 100_000_000 })
  const key = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'bench email', scopes: ['*'], expiresAt: null })
  const [inbox] = await sql<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, name)
    values (${org.id}, 'agents.localhost', ${localPart}, 'Bench') returning id::text, address`
  // Events nobody listens to are not written: an endpoint for message events makes message.received count.
  await sql`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${org.id}, 'https://hooks.example.com/bench', ${['message.*']}, 'whsec_bench')`
  return { orgId: org.id, key: key.key, inbox }
}

/** A loopback smtp-server that reads each message to its end and keeps nothing; `accepted` hears each recipient. */
async function startSink(accepted: (recipient: string) => void = () => {}) {
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      stream.on('data', () => {})
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo) accepted(r.address)
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const body = `Hello,\n\nThe order I placed last week has not arrived yet. Could you tell me where it is and when it
should reach me? The reference is on the confirmation you sent.\n\nThanks,\nA customer\n`.repeat(3)

function inboundMail(run: string, i: number, to: string, opening: number): Mail.Options {
  const conversation = i % opening
  const id = (n: number) => `<bench-${run}-${n}@customers.example>`
  const earlier = i >= opening ? id(i - opening) : null
  return {
    from: `Customer ${conversation} <customer${conversation}@customers.example>`,
    to,
    subject: `${earlier ? 'Re: ' : ''}Where is order ${run}-${conversation}?`,
    text: body,
    messageId: id(i),
    ...(earlier ? { inReplyTo: earlier, references: [id(conversation)] } : {}),
  }
}

/**
 * Sends `count` messages of conversations named `run` over one pooled client of several connections: messages
 * a second, and this process's CPU a message (client and server alike: on a shared machine the rate drifts
 * with others' load, the CPU much less).
 */
async function sendPooled(port: number, to: string, run: string, count: number): Promise<{ rate: number; cpuMs: number }> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
    maxMessages: Number.POSITIVE_INFINITY,
    name: 'client.customers.example',
  })
  const opening = Math.max(1, Math.round(count / 10))
  const started = performance.now()
  const cpu = process.cpuUsage()
  try {
    await Promise.all(Array.from({ length: count }, (_, i) => transport.sendMail(inboundMail(run, i, to, opening))))
  } finally {
    transport.close()
  }
  const used = process.cpuUsage(cpu)
  return { rate: count / ((performance.now() - started) / 1000), cpuMs: (used.user + used.system) / 1000 / count }
}

/** One process's CPU time in ms from /proc, and its parent, or null when it is not on this machine. */
function processCpu(pid: string): { ms: number; parent: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // utime, stime and those of reaped children (the backends that have ended), in clock ticks of 10 ms.
    return { ms: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10, parent: f[1] }
  } catch {
    return null
  }
}

/**
 * The CPU the database server has used so far (its postmaster and every backend and worker), in ms; null
 * when the server is not a process of this machine. Other databases on the machine are not counted.
 */
async function databaseCpuMs(sql: postgres.Sql): Promise<number | null> {
  const [{ pid }] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`
  const postmaster = processCpu(String(pid))?.parent
  if (!postmaster) return null
  let ms = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const p = processCpu(entry)
    if (p && (entry === postmaster || p.parent === postmaster)) ms += p.ms
  }
  return ms
}

async function benchInbound(sql: postgres.Sql, databaseUrl: string, emails: number) {
  const org = await seedEmailOrganisation(sql, 'bench-inbound')
  const ingressSql = postgres(databaseUrl, { max: 10, onnotice: () => {} })
  const ingress = await startSmtpIngress(ingressSql, { port: 0, resolver: noRecords, onError: (e) => console.error('smtp:', e) })
  const bare = await startSink()
  try {
    const warmup = Math.min(50, emails)
    await sendPooled(bare.port, org.inbox.address, 'warmup', warmup)
    await sendPooled(ingress.port, org.inbox.address, 'warmup', warmup)
    const bareRun = await sendPooled(bare.port, org.inbox.address, 'bare', emails)
    const databaseBefore = await databaseCpuMs(sql)
    const ingressRun = await sendPooled(ingress.port, org.inbox.address, 'run', emails)
    const databaseAfter = await databaseCpuMs(sql)
    const [counts] = await sql<{ stored: number; events: number; threads: number }[]>`
      select (select count(*)::int from agentry.email_messages where inbox_id = ${org.inbox.id}) as stored,
             (select count(*)::int from agentry.events where org_id = ${org.orgId} and type = 'message.received') as events,
             (select count(*)::int from agentry.email_threads where inbox_id = ${org.inbox.id} and subject like '%order run-%') as threads`
    return {
      messages: emails,
      ingress_per_second: Math.round(ingressRun.rate),
      bare_smtp_per_second: Math.round(bareRun.rate),
      ingress_process_cpu_ms_per_message: Math.round(ingressRun.cpuMs * 100) / 100,
      bare_process_cpu_ms_per_message: Math.round(bareRun.cpuMs * 100) / 100,
      database_cpu_ms_per_message:
        databaseBefore === null || databaseAfter === null ? null : Math.round(((databaseAfter - databaseBefore) / emails) * 100) / 100,
      stored: counts.stored - warmup,
      events: counts.events - warmup,
      threads: counts.threads,
    }
  } finally {
    await Promise.all([ingress.close(), bare.close()])
    await ingressSql.end()
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0

async function benchSend(sql: postgres.Sql, databaseUrl: string, api: string, emails: number) {
  const org = await seedEmailOrganisation(sql, 'bench-send')
  const acceptedAt = new Map<string, number>()
  const sink = await startSink((recipient) => acceptedAt.set(recipient, performance.now()))
  const sinkUrl = `smtp://127.0.0.1:${sink.port}`
  const runnerSql = postgres(databaseUrl, { max: 6, onnotice: () => {} })
  const concurrency = 4
  const previousRelay = process.env.SMTP_URL
  process.env.SMTP_URL = sinkUrl
  const runner = startJobRunner(runnerSql, { handlers: jobHandlers, concurrency, pollMs: 50, onError: (e) => console.error('jobs:', e) })
  try {
    // Straight to the sink with a client like the relay's (a pool of 4 connections), `concurrency` at a time.
    const raw = Buffer.from(`From: ${org.inbox.address}\r\nTo: reader@remote.example\r\nSubject: Direct\r\n\r\n${body}`)
    let next = 0
    const direct = nodemailer.createTransport({ url: sinkUrl, pool: true, maxConnections: 4, maxMessages: 100 } as never)
    const directStarted = performance.now()
    try {
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < emails) {
            const i = next++
            await direct.sendMail({ envelope: { from: org.inbox.address, to: [`direct${i}@remote.example`] }, raw })
          }
        }),
      )
    } finally {
      direct.close()
    }
    const directRate = emails / ((performance.now() - directStarted) / 1000)

    const requestedAt = new Map<string, number>()
    let sent = 0
    next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < emails) {
          const recipient = `reader${next++}@remote.example`
          requestedAt.set(recipient, performance.now())
          const res = await fetch(`${api}/messages/send`, {
            method: 'POST',
            headers: { authorization: `Bearer ${org.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: recipient, subject: 'Your order has shipped', text: body, inbox_id: org.inbox.id }),
          })
          await res.arrayBuffer()
          if (res.status !== 202) throw new Error(`POST /messages/send answered ${res.status}`)
        }
      }),
    )
    const deadline = Date.now() + 10 * 60_000
    while ([...requestedAt.keys()].some((r) => !acceptedAt.has(r))) {
      if (Date.now() > deadline) throw new Error('the sink did not receive every message within 10 minutes')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const finished = Math.max(...[...requestedAt.keys()].map((r) => acceptedAt.get(r) as number))
    const latencies = [...requestedAt].map(([r, at]) => (acceptedAt.get(r) as number) - at).sort((a, b) => a - b)
    // The sink answers before the job records the message as sent.
    while (sent < emails && Date.now() < deadline) {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from agentry.email_messages where inbox_id = ${org.inbox.id} and status = 'sent'`
      sent = row.n
      if (sent < emails) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return {
      messages: emails,
      api_per_second: Math.round(emails / ((finished - started) / 1000)),
      direct_per_second: Math.round(directRate),
      p50_ms: Math.round(percentile(latencies, 50)),
      p99_ms: Math.round(percentile(latencies, 99)),
      sent,
    }
  } finally {
    await runner.stop()
    if (previousRelay === undefined) delete process.env.SMTP_URL
    else process.env.SMTP_URL = previousRelay
    await runnerSql.end()
    await sink.close()
  }
}

export async function benchEmail(
  sql: postgres.Sql,
  databaseUrl: string,
  api: string,
  counts: { received: number; sent: number },
): Promise<EmailFigures> {
  const inbound = await benchInbound(sql, databaseUrl, counts.received)
  const send = await benchSend(sql, databaseUrl, api, counts.sent)
  return { inbound, send }
}
