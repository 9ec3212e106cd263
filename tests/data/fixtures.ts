import { serviceSql, type Tenant } from '../harness/tenants.ts'

export interface SeededMessage {
  /** When the message was stored. */
  at: string
  /** Which of the inbox's threads it belongs to (0, 1, …). */
  thread: number
  attachments?: number
  from?: string
  text?: string
}

export interface SeededInbox {
  id: string
  threadIds: string[]
  messageIds: string[]
}

/** An inbox of t's on the shared domain with threads, messages and attachments, made straight in the database. */
export async function seedInbox(t: Tenant, messages: SeededMessage[]): Promise<SeededInbox> {
  const sql = serviceSql()
  const local = `d${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const [inbox] = await sql<{ id: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, name) values (${t.org.id}, 'agents.localhost', ${local}, 'Support')
    returning id`
  const threadCount = Math.max(...messages.map((m) => m.thread)) + 1
  const threadIds: string[] = []
  for (let i = 0; i < threadCount; i++) {
    const [thread] = await sql<{ id: string }[]>`
      insert into agentry.email_threads (org_id, inbox_id, subject, message_count)
      values (${t.org.id}, ${inbox.id}, ${`Thread ${i}`}, ${messages.filter((m) => m.thread === i).length}) returning id`
    threadIds.push(thread.id)
  }
  const messageIds: string[] = []
  for (const [n, m] of messages.entries()) {
    const [message] = await sql<{ id: string }[]>`
      insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, from_address, subject, text,
        status, created_at)
      values (${t.org.id}, ${inbox.id}, ${threadIds[m.thread]}, 'inbound', ${`${n}.${local}@example.com`}, ${m.from ?? 'ana@example.com'},
        ${`Message ${n}`}, ${m.text ?? null}, 'received', ${m.at})
      returning id`
    messageIds.push(message.id)
    for (let a = 0; a < (m.attachments ?? 0); a++) {
      await sql`
        insert into agentry.email_attachments (org_id, message_id, filename, size_bytes, sha256, content)
        values (${t.org.id}, ${message.id}, ${`file-${a}.txt`}, 5, 'x', ${Buffer.from('hello')})`
    }
  }
  return { id: inbox.id, threadIds, messageIds }
}

/** A delivery event of the message's and a suppression of the inbox's, each made straight in the database. */
export async function seedDelivery(t: Tenant, inboxId: string, messageId: string): Promise<void> {
  const sql = serviceSql()
  await sql`
    insert into agentry.email_delivery_events (org_id, inbox_id, message_id, recipient, event_type)
    values (${t.org.id}, ${inboxId}, ${messageId}, 'bob@example.com', 'bounced')`
  await sql`
    insert into agentry.email_suppressions (org_id, inbox_id, address, reason, source_message_id)
    values (${t.org.id}, ${inboxId}, 'bob@example.com', 'hard_bounce', ${messageId})`
}

/** What is left of the inbox: its messages (ids), threads (id and message count) and attachments. */
export async function inboxContents(inboxId: string) {
  const sql = serviceSql()
  const messages = await sql<{ id: string }[]>`select id from agentry.email_messages where inbox_id = ${inboxId} order by created_at`
  const threads = await sql<{ id: string; message_count: number }[]>`
    select id, message_count from agentry.email_threads where inbox_id = ${inboxId} order by subject`
  const [{ n: attachments }] = await sql<{ n: number }[]>`
    select count(*)::int as n from agentry.email_attachments a join agentry.email_messages m on m.id = a.message_id
    where m.inbox_id = ${inboxId}`
  const [{ n: inboxes }] = await sql<{ n: number }[]>`select count(*)::int as n from agentry.email_inboxes where id = ${inboxId}`
  const [{ n: deliveryEvents }] = await sql<{ n: number }[]>`
    select count(*)::int as n from agentry.email_delivery_events where inbox_id = ${inboxId}`
  const [{ n: suppressions }] = await sql<{ n: number }[]>`
    select count(*)::int as n from agentry.email_suppressions where inbox_id = ${inboxId}`
  return { inboxes, threads, messages: messages.map((m) => m.id), attachments, deliveryEvents, suppressions }
}

/** A search embedding of the message, as the embedding job writes one, made straight in the database. */
export async function seedMessageVector(t: Tenant, inboxId: string, messageId: string): Promise<void> {
  await serviceSql()`
    insert into agentry.email_message_vectors (message_id, org_id, inbox_id, embedding, embedding_model)
    values (${messageId}, ${t.org.id}, ${inboxId}, ${Buffer.alloc(16)}, 'test-model')`
}

/** A DMARC aggregate report with one record about the organisation's first domain, made straight in the database. */
export async function seedDmarcReport(t: Tenant): Promise<void> {
  const sql = serviceSql()
  const [domain] = await sql<{ id: string; domain: string }[]>`
    select id, name as domain from agentry.email_domains where org_id = ${t.org.id} order by created_at limit 1`
  const [report] = await sql<{ id: string }[]>`
    insert into agentry.dmarc_reports (org_id, domain_id, policy_domain, org_name, report_id, date_begin, date_end, record_count, message_count)
    values (${t.org.id}, ${domain.id}, ${domain.domain}, 'receiver.example', ${crypto.randomUUID()}, '2025-01-01', '2025-01-02', 1, 3)
    returning id`
  await sql`
    insert into agentry.dmarc_records (org_id, report_id, source_ip, count, disposition, dkim, spf, header_from)
    values (${t.org.id}, ${report.id}, '192.0.2.1', 3, 'none', 'pass', 'pass', ${domain.domain})`
}

/** An Ed25519 public key of the agent's, as self-registration keeps one, made straight in the database. */
export async function seedAgentKey(t: Tenant, agentId: string): Promise<void> {
  await serviceSql()`
    insert into agentry.agent_public_keys (agent_id, org_id, public_key) values (${agentId}, ${t.org.id}, ${Buffer.alloc(32, 7)})`
}

/**
 * A run of the agent's with a step and a judgement, the judge, a deployment and a budget, and the run's model
 * call in the usage ledger, made straight in the database.
 */
export async function seedRun(t: Tenant): Promise<void> {
  const sql = serviceSql()
  await sql`insert into agentry.deployments (org_id, agent_id, environment) values (${t.org.id}, ${t.agent.id}, 'production')`
  const [judge] = await sql<{ id: string }[]>`
    insert into agentry.judges (org_id, agent_id, name, kind, rule, threshold)
    values (${t.org.id}, ${t.agent.id}, 'Greets', 'rule', ${sql.json({ regex: 'Hello' })}, 1) returning id`
  await sql`insert into agentry.budgets (org_id, agent_id, period, limit_usd) values (${t.org.id}, null, 'month', 100)`
  const [run] = await sql<{ id: string }[]>`
    insert into agentry.runs (org_id, agent_id, message) values (${t.org.id}, ${t.agent.id}, 'Say hello') returning id`
  await sql`insert into agentry.run_steps (run_id, org_id, agent_id, seq) values (${run.id}, ${t.org.id}, ${t.agent.id}, 1)`
  // An event stored as a row, as runs from before migration 49 have them (newer runs' are made from the rows).
  await sql`
    insert into agentry.run_events (run_id, org_id, agent_id, type, data)
    values (${run.id}, ${t.org.id}, ${t.agent.id}, 'run.in_progress', ${sql.json({ id: run.id, status: 'in_progress' })})`
  await sql`
    insert into agentry.run_judgements (org_id, run_id, agent_id, judge_id, judge_name, kind, threshold, score, passed)
    values (${t.org.id}, ${run.id}, ${t.agent.id}, ${judge.id}, 'Greets', 'rule', 1, 1, true)`
  await sql`
    insert into agentry.usage_records (org_id, agent_id, run_id, provider, model, prompt_tokens, completion_tokens, cost_usd)
    values (${t.org.id}, ${t.agent.id}, ${run.id}, 'openai', 'gpt-4o', 10, 5, 0.5)`
}
