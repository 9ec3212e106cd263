// What each deletion scope removes, kind by kind, in the order the job deletes them: children before their
// parents, so that each batch removes the rows it counts. Every kind of record that goes is counted and
// deleted as a kind of its own; only bookkeeping goes by cascade: the vector version counters of an inbox or
// knowledge base, and a knowledge base's links to agents.
//
// - messages: one inbox's messages (all, or those stored before `before`), their attachments, delivery
//   events and search embeddings, and the inbox's threads that have no message left; the threads that keep
//   some messages are summarised again from what is left (count, last message time and direction, snippet,
//   attachments, participants). The inbox's suppressions stay: they protect its sending reputation whatever
//   mail is kept.
// - inbox: one inbox with its threads, messages, attachments, delivery events, embeddings, suppressions and
//   allow and block lists.
// - organization: all of the organisation's tenant content: email (domains with their DMARC reports and
//   records, inboxes, threads, messages, attachments, delivery events, suppressions, allow and block lists,
//   message embeddings),
//   knowledge (bases, items, chunks), datasets and their rows, conversations and their messages, agents with
//   their Ed25519 public keys, runs with their steps, events and judgements, judges, deployments, budgets
//   (with the thresholds they crossed), webhook endpoints with their events, deliveries and attempts, and
//   stored idempotent answers. It keeps what the organisation needs to go on and to account for itself:
//   the organisation row, its members and environments, its organisation tokens, the audit log, usage
//   records, their daily sums and spending totals (billing; they lose their link to a deleted conversation
//   or run), the sending
//   counters (else deleting would reset the hourly and daily sending limits), and the deletion requests
//   themselves, so the caller can still read the status.
import type { PendingQuery, Row } from 'postgres'
import type { Sql } from '../_core/db.ts'

export type DeletionScope = 'organization' | 'inbox' | 'messages'

export interface DeletionTarget {
  orgId: string
  scope: DeletionScope
  inboxId: string | null
  before: Date | null
}

/** One kind of record a scope deletes: how to count what is left of it and how to delete a batch of it. */
export interface RecordKind {
  kind: string
  count(sql: Sql, t: DeletionTarget): PendingQuery<Row[]>
  /** Deletes up to `limit` of the kind's rows in one statement; answers how many went. */
  deleteBatch(sql: Sql, t: DeletionTarget, limit: number): PendingQuery<Row[]>
}

type Where = (sql: Sql, t: DeletionTarget) => PendingQuery<Row[]>

/** A kind kept in `table` (rows identified by `key`) whose rows in scope `where` selects. */
function kind(name: string, table: string, where: Where, key = 'id'): RecordKind {
  return {
    kind: name,
    count: (sql, t) => sql`select count(*)::integer as n from ${sql(`agentry.${table}`)} as r where ${where(sql, t)}`,
    deleteBatch: (sql, t, limit) => sql`
      with gone as (
        delete from ${sql(`agentry.${table}`)} where org_id = ${t.orgId} and ${sql(key)} in (
          select r.${sql(key)} from ${sql(`agentry.${table}`)} as r where ${where(sql, t)} limit ${limit})
        returning 1)
      select count(*)::integer as n from gone`,
  }
}

const inOrg: Where = (sql, t) => sql`r.org_id = ${t.orgId}`
/** A run's rows, found through the organisation's runs (their tables are indexed by run, not organisation). */
const ofOrgRuns: Where = (sql, t) =>
  sql`r.org_id = ${t.orgId} and r.run_id in (select g.id from agentry.runs g where g.org_id = ${t.orgId})`

/**
 * The rows of the organisation's datasets, each dataset a table of its own (sql/20261130000037_dataset_tables.sql).
 * row_count is kept exact by the tables' triggers, so counting reads the datasets only.
 */
const datasetRows: RecordKind = {
  kind: 'dataset_rows',
  count: (sql, t) => sql`select coalesce(sum(row_count), 0)::integer as n from agentry.datasets where org_id = ${t.orgId}`,
  deleteBatch: (sql, t, limit) => sql`select agentry.delete_org_dataset_rows(${t.orgId}, ${limit}) as n`,
}

/** The inbox's messages the target covers: all, or those stored before `before`. */
const targetMessages = (sql: Sql, t: DeletionTarget) =>
  sql`select m.id from agentry.email_messages m where m.org_id = ${t.orgId} and m.inbox_id = ${t.inboxId}
      ${t.before ? sql`and m.created_at < ${t.before}` : sql``}`

const inboxAttachments: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.message_id in (${targetMessages(sql, t)})`
const inboxMessages: Where = (sql, t) => sql`r.id in (${targetMessages(sql, t)})`
/** Threads of the inbox with no message outside the target: empty once the target's messages are gone. */
const emptiedThreads: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.inbox_id = ${t.inboxId} and not exists (
  select 1 from agentry.email_messages m where m.thread_id = r.id and m.org_id = ${t.orgId}
    ${t.before ? sql`and m.created_at >= ${t.before}` : sql`and false`})`
const theInbox: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.id = ${t.inboxId}`

const inboxDeliveryEvents: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.message_id in (${targetMessages(sql, t)})`
const inboxMessageVectors: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.message_id in (${targetMessages(sql, t)})`
const ofTheInbox: Where = (sql, t) => sql`r.org_id = ${t.orgId} and r.inbox_id = ${t.inboxId}`

const messagesKinds = [
  kind('attachments', 'email_attachments', inboxAttachments),
  kind('delivery_events', 'email_delivery_events', inboxDeliveryEvents),
  kind('message_vectors', 'email_message_vectors', inboxMessageVectors, 'message_id'),
  kind('messages', 'email_messages', inboxMessages),
  kind('threads', 'email_threads', emptiedThreads),
]

const organizationKinds = [
  kind('attachments', 'email_attachments', inOrg),
  kind('delivery_events', 'email_delivery_events', inOrg),
  kind('suppressions', 'email_suppressions', inOrg),
  kind('message_vectors', 'email_message_vectors', inOrg, 'message_id'),
  kind('messages', 'email_messages', inOrg),
  kind('threads', 'email_threads', inOrg),
  kind('sender_lists', 'email_sender_lists', inOrg),
  kind('inboxes', 'email_inboxes', inOrg),
  kind('dmarc_records', 'dmarc_records', inOrg),
  kind('dmarc_reports', 'dmarc_reports', inOrg),
  kind('domains', 'email_domains', inOrg),
  kind('knowledge_chunks', 'knowledge_chunks', inOrg),
  kind('knowledge_items', 'knowledge_items', inOrg),
  kind('knowledge_bases', 'knowledge_bases', inOrg),
  datasetRows,
  kind('datasets', 'datasets', inOrg),
  kind('conversation_messages', 'messages', inOrg),
  kind('conversations', 'conversations', inOrg),
  kind('webhook_attempts', 'webhook_attempts', inOrg),
  kind('webhook_deliveries', 'webhook_deliveries', inOrg),
  kind('events', 'events', inOrg),
  kind('webhook_endpoints', 'webhook_endpoints', inOrg),
  kind('run_judgements', 'run_judgements', inOrg),
  kind('run_events', 'run_events', ofOrgRuns),
  kind('run_steps', 'run_steps', ofOrgRuns),
  kind('runs', 'runs', inOrg),
  kind('judges', 'judges', inOrg),
  kind('deployments', 'deployments', inOrg),
  kind('budgets', 'budgets', inOrg),
  kind('idempotent_requests', 'idempotent_requests', inOrg, 'key'),
  kind('agent_public_keys', 'agent_public_keys', inOrg, 'agent_id'),
  kind('agents', 'agents', inOrg),
]

export function kindsOf(scope: DeletionScope): RecordKind[] {
  if (scope === 'organization') return organizationKinds
  if (scope === 'inbox') {
    return [
      ...messagesKinds,
      kind('suppressions', 'email_suppressions', ofTheInbox),
      kind('sender_lists', 'email_sender_lists', ofTheInbox),
      kind('inboxes', 'email_inboxes', theInbox),
    ]
  }
  return messagesKinds
}

/** How many records of each kind the target holds now. */
export async function countRecords(sql: Sql, t: DeletionTarget): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const k of kindsOf(t.scope)) {
    const [row] = await k.count(sql, t)
    counts[k.kind] = row.n as number
  }
  return counts
}
