// What the sending tests start from, written straight into the database with the service connection:
// inboxes (on the shared domain, or on a verified domain with a real DKIM key), a received thread, uploads.
import { generateKeyPairSync } from 'node:crypto'
import { serviceSql, type Tenant } from '../../harness/tenants.ts'

export interface ArrangedDomain {
  id: string
  name: string
  selector: string
  /** Base64 SPKI, as the DKIM TXT record publishes it. */
  publicKey: string
}

export async function verifiedDomain(t: Tenant): Promise<ArrangedDomain> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const name = `mail-${crypto.randomUUID().slice(0, 8)}.example.com`
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_domains (org_id, name, status, dkim_selector, dkim_private_key, dkim_public_key, verified_at)
    values (${t.org.id}, ${name}, 'verified', 'agentry', ${privateKey.export({ type: 'pkcs8', format: 'pem' }) as string}, ${spki}, now())
    returning id`
  return { id: row.id, name, selector: 'agentry', publicKey: spki }
}

export async function inbox(
  t: Tenant,
  options: { agent?: 'agent' | 'otherAgent'; domain?: { id: string; name: string }; localPart?: string; name?: string } = {},
): Promise<{ id: string; address: string }> {
  const [row] = await serviceSql()<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain_id, domain, local_part, name, agent_id)
    values (${t.org.id}, ${options.domain?.id ?? null}, ${options.domain?.name ?? 'agents.localhost'},
      ${options.localPart ?? `box-${crypto.randomUUID().slice(0, 12)}`}, ${options.name ?? 'Support'},
      ${options.agent ? t[options.agent].id : null})
    returning id, address`
  return row
}

/** A thread holding one received message with these Message-ID and References. */
export async function receivedThread(
  t: Tenant,
  inboxId: string,
  m: { subject: string; messageId: string; references: string[]; from: string },
): Promise<string> {
  const sql = serviceSql()
  const [thread] = await sql<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject, base_subject, message_count, last_direction)
    values (${t.org.id}, ${inboxId}, ${m.subject}, ${m.subject.toLowerCase()}, 1, 'inbound') returning id`
  await sql`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, "references", from_address,
      subject, text, status)
    values (${t.org.id}, ${inboxId}, ${thread.id}, 'inbound', ${m.messageId}, ${m.references}, ${m.from}, ${m.subject}, 'Hello?',
      'received')`
  return thread.id
}

export async function upload(t: Tenant, filename: string, text: string): Promise<string> {
  const content = new TextEncoder().encode(text)
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_attachments (org_id, filename, content_type, size_bytes, sha256, content)
    values (${t.org.id}, ${filename}, 'text/plain', ${content.length}, 'sha', ${content}) returning id`
  return row.id
}

/** Caps the organisation's sending at `perHour` and `perDay` on a plan of its own. */
export async function sendingPlan(t: Tenant, perHour: number, perDay: number): Promise<void> {
  const sql = serviceSql()
  const id = `test-send-${t.org.id}`
  await sql`
    insert into agentry.plans (id, name, rate_limit_per_minute, max_concurrent_requests, max_emails_per_hour, max_emails_per_day)
    values (${id}, 'Test sending plan', 1000000, 16, ${perHour}, ${perDay})`
  await sql`update agentry.organisations set plan = ${id} where id = ${t.org.id}`
}

export interface StoredMessage {
  id: string
  thread_id: string
  inbox_id: string
  direction: string
  status: string
  subject: string
  message_id_header: string
  in_reply_to: string | null
  references: string[]
  to_addresses: string[]
  bcc_addresses: string[]
  raw: Buffer | null
  error: string | null
}

export async function storedMessage(id: string): Promise<StoredMessage> {
  const [row] = await serviceSql()<StoredMessage[]>`
    select id, thread_id, inbox_id, direction, status, subject, message_id_header, in_reply_to, "references", to_addresses,
      bcc_addresses, raw, error
    from agentry.email_messages where id = ${id}`
  return row
}

export async function jobsFor(messageId: string): Promise<number> {
  const [row] = await serviceSql()<{ n: number }[]>`
    select count(*)::int as n from agentry.jobs where kind = 'email.send_message' and payload ->> 'message_id' = ${messageId}`
  return row.n
}

/** The message's header block, unfolded. */
export function headersOf(raw: Uint8Array): string {
  const text = Buffer.from(raw).toString('utf8')
  return text.slice(0, text.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ')
}
