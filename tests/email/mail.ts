// Mail arranged straight in the database with the service connection, as inbound processing and sending
// would leave it: the routes under test only read and triage what is there.
import { serviceSql, type Tenant } from '../harness/tenants.ts'
import { victim } from '../harness/victim.ts'

export interface SeededMessage {
  direction?: 'inbound' | 'outbound'
  from?: string
  to?: string[]
  cc?: string[]
  bcc?: string[]
  replyTo?: string[]
  subject?: string
  text?: string
  html?: string
  /** The new text; the text itself unless given. */
  extracted?: string
  at: string
  attachments?: { filename: string; contentType: string; content: string }[]
}

export async function seedDomain(
  t: Tenant,
  name = `${crypto.randomUUID().slice(0, 8)}.example.com`,
): Promise<{ id: string; name: string }> {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_domains (org_id, name, dkim_selector, dkim_private_key, dkim_public_key)
    values (${t.org.id}, ${name}, 'agentry', 'private', 'public') returning id`
  return { id: row.id, name }
}

/** An inbox of t's, on the shared domain unless a domain of t's is given, the agent's when `agent` says. */
export async function seedInbox(
  t: Tenant,
  options: { agent?: 'agent' | 'otherAgent'; domain?: { id: string; name: string } } = {},
): Promise<{ id: string; address: string }> {
  const agentId = options.agent ? t[options.agent].id : null
  const [row] = await serviceSql()<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain_id, domain, local_part, name, agent_id)
    values (${t.org.id}, ${options.domain?.id ?? null}, ${options.domain?.name ?? 'agents.localhost'},
      ${`box-${crypto.randomUUID().slice(0, 12)}`}, 'Inbox', ${agentId})
    returning id, address`
  return row
}

/** A thread of the inbox with its messages, its summary columns filled as inbound processing fills them. */
export async function seedThread(
  orgId: string,
  inboxId: string,
  subject: string,
  messages: SeededMessage[],
): Promise<{ id: string; messageIds: string[]; attachmentIds: string[] }> {
  const sql = serviceSql()
  const last = messages[messages.length - 1]
  const [thread] = await sql<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject, base_subject, message_count, last_message_at, last_direction,
      snippet, has_attachments, created_at)
    values (${orgId}, ${inboxId}, ${subject}, ${subject.toLowerCase()}, ${messages.length}, ${last.at},
      ${last.direction ?? 'inbound'}, ${(last.extracted ?? last.text ?? '').slice(0, 200)},
      ${messages.some((m) => m.attachments?.length)}, ${messages[0].at})
    returning id`
  const messageIds: string[] = []
  const attachmentIds: string[] = []
  for (const m of messages) {
    const direction = m.direction ?? 'inbound'
    const [row] = await sql<{ id: string }[]>`
      insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, from_address, to_addresses,
        cc_addresses, bcc_addresses, reply_to, subject, text, html, extracted_text, status, created_at)
      values (${orgId}, ${inboxId}, ${thread.id}, ${direction}, ${`${crypto.randomUUID()}@mail.example.com`},
        ${m.from ?? 'sender@example.com'}, ${m.to ?? []}::text[], ${m.cc ?? []}::text[], ${m.bcc ?? []}::text[],
        ${m.replyTo ?? []}::text[], ${m.subject ?? subject}, ${m.text ?? null}, ${m.html ?? null}, ${m.extracted ?? m.text ?? null},
        ${direction === 'inbound' ? 'received' : 'sent'}, ${m.at})
      returning id`
    messageIds.push(row.id)
    for (const a of m.attachments ?? []) {
      const content = new TextEncoder().encode(a.content)
      const [attachment] = await sql<{ id: string }[]>`
        insert into agentry.email_attachments (org_id, message_id, filename, content_type, size_bytes, sha256, content)
        values (${orgId}, ${row.id}, ${a.filename}, ${a.contentType}, ${content.length}, 'sha', ${content}) returning id`
      attachmentIds.push(attachment.id)
    }
  }
  return { id: thread.id, messageIds, attachmentIds }
}

const isVictim = async (t: Tenant) => (await victim()).tenant.org.id === t.org.id

/**
 * A thread of t's with one message, in a fresh inbox of the agent named (the organisation's when none); for
 * the victim, its marked thread, so the security table attacks what carries the marker.
 */
export async function threadOf(t: Tenant, agent?: 'agent' | 'otherAgent'): Promise<{ id: string }> {
  if (await isVictim(t)) return { id: (await markVictimMail()).threadId }
  const inbox = await seedInbox(t, { agent })
  return { id: (await seedThread(t.org.id, inbox.id, 'Hello', [{ text: 'Hello there', at: new Date().toISOString() }])).id }
}

/** An inbox of t's holding a thread whose message says hello (the victim's marked one for the victim). */
export async function inboxOf(t: Tenant): Promise<{ inboxId: string; domainId: string }> {
  if (await isVictim(t)) return markVictimMail()
  const domain = await seedDomain(t)
  const inbox = await seedInbox(t, { domain })
  await seedThread(t.org.id, inbox.id, 'Hello', [{ text: 'Hello there', at: new Date().toISOString() }])
  return { inboxId: inbox.id, domainId: domain.id }
}

let victimMail: Promise<{ inboxId: string; domainId: string; threadId: string }> | undefined

/**
 * Gives this file's victim (tests/harness/victim.ts) mail on a domain of its: an inbox and a thread whose
 * subject, sender, text and attachment carry the marker, and adds their ids to what no other organisation may see.
 */
export function markVictimMail(): Promise<{ inboxId: string; domainId: string; threadId: string }> {
  victimMail ??= (async () => {
    const { tenant, marker, traces } = await victim()
    const domain = await seedDomain(tenant, `mail-${marker}.example.com`)
    const inbox = await seedInbox(tenant, { agent: 'agent', domain })
    const thread = await seedThread(tenant.org.id, inbox.id, `${marker} subject`, [
      {
        from: `${marker}@example.com`,
        text: `${marker} hello`,
        at: new Date().toISOString(),
        attachments: [{ filename: `${marker}.txt`, contentType: 'text/plain', content: marker }],
      },
    ])
    Object.assign(traces, {
      'mail domain id': domain.id,
      'mail inbox id': inbox.id,
      'thread id': thread.id,
      'email message id': thread.messageIds[0],
      'attachment id': thread.attachmentIds[0],
    })
    return { inboxId: inbox.id, domainId: domain.id, threadId: thread.id }
  })()
  return victimMail
}
