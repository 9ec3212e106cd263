// What the inbound tests share: the SMTP ingress on loopback with a DNS server of our own behind its
// checks, real nodemailer clients, inboxes made straight in the database, and what inbound left there.
import { generateKeyPairSync } from 'node:crypto'
import nodemailer from 'nodemailer'
import type Mail from 'nodemailer/lib/mailer'
import { database } from '../../../functions/_core/db.ts'
import { dnsResolver, type SmtpIngress, startSmtpIngress } from '../../../scripts/lib/smtp-ingress.ts'
import { startDnsServer, type TestDnsServer } from '../../harness/dns-server.ts'
import { serviceSql, type Tenant } from '../../harness/tenants.ts'

export interface InboundRig {
  dns: TestDnsServer
  ingress: SmtpIngress
  close(): Promise<void>
}

export async function startInboundRig(options: { maxBytes?: number } = {}): Promise<InboundRig> {
  const dns = await startDnsServer()
  const ingress = await startSmtpIngress(database(), {
    port: 0,
    resolver: dnsResolver(dns.address),
    maxBytes: options.maxBytes,
    onError: () => {},
  })
  return {
    dns,
    ingress,
    close: async () => {
      await ingress.close()
      await dns.close()
    },
  }
}

export interface Signer {
  domainName: string
  keySelector: string
  privateKey: string
}

/** Sends one message over real SMTP to the ingress; DKIM-signed when a signer is given. */
export function sendMail(rig: InboundRig, mail: Mail.Options, dkim?: Signer) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: rig.ingress.port,
    secure: false,
    ignoreTLS: true,
    name: 'client.example.test',
    ...(dkim ? { dkim } : {}),
  })
  return transport.sendMail(mail).finally(() => transport.close())
}

/** A sending domain with a DKIM key, its public half and SPF and DMARC records served by the rig's DNS. */
export function signingDomain(rig: InboundRig, name: string, records: { spf?: string; dmarc?: string } = {}): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64')
  const key = `v=DKIM1; k=rsa; p=${spki}`
  rig.dns.set({
    txt: {
      [`s1._domainkey.${name}`]: [key.match(/.{1,250}/g) as string[]],
      ...(records.spf ? { [name]: [records.spf] } : {}),
      ...(records.dmarc ? { [`_dmarc.${name}`]: [records.dmarc] } : {}),
    },
  })
  return { domainName: name, keySelector: 's1', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }
}

export async function makeInbox(t: Tenant, options: { agent?: boolean; extraction?: boolean } = {}) {
  const [row] = await serviceSql()<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, name, agent_id, extraction_schema)
    values (${t.org.id}, 'agents.localhost', ${`in-${crypto.randomUUID().slice(0, 12)}`}, 'Support', ${options.agent ? t.agent.id : null},
      ${options.extraction ? serviceSql().json({ name: 'x', description: 'x', schema: { type: 'object' }, enabled: true }) : null})
    returning id::text, address`
  return row
}

export interface StoredMessage {
  id: string
  thread_id: string
  message_id_header: string
  in_reply_to: string | null
  references: string[]
  from_address: string
  from_name: string | null
  to_addresses: string[]
  cc_addresses: string[]
  subject: string
  text: string | null
  html: string | null
  extracted_text: string | null
  auth: Record<string, unknown> | null
  is_auto_reply: boolean
  status: string
  error: string | null
  size_bytes: number
  raw: Buffer
}

export async function messagesOf(inboxId: string): Promise<StoredMessage[]> {
  return serviceSql()<StoredMessage[]>`
    select id::text, thread_id::text, message_id_header, in_reply_to, "references", from_address, from_name, to_addresses,
      cc_addresses, subject, text, html, extracted_text, auth, is_auto_reply, status, error, size_bytes, raw
    from agentry.email_messages where inbox_id = ${inboxId} order by created_at, id`
}

export async function threadOf(id: string) {
  const [row] = await serviceSql()<
    {
      inbox_id: string
      org_id: string
      subject: string
      base_subject: string
      status: string
      message_count: number
      last_direction: string
      snippet: string
      has_attachments: boolean
      participants: string[]
    }[]
  >`select inbox_id::text, org_id::text, subject, base_subject, status, message_count, last_direction, snippet, has_attachments,
      participants from agentry.email_threads where id = ${id}`
  return row
}
