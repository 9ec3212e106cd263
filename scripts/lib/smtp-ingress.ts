// The bundled SMTP ingress: mail for this service's inboxes arrives here and goes through receiveMime, the
// same path a provider's inbound webhook takes. Recipients are checked at RCPT (unknown addresses get 550
// before any body is sent), the size at MAIL FROM (SIZE=) and again over DATA (552), and a message is
// acknowledged with 250 only after it is committed: a sender whose connection drops before then retries.
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { Resolver } from 'node:dns/promises'
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server'
import type { Sql } from '../../functions/_core/db.ts'
import { maxMessageBytes } from '../../functions/email/inbound/limits.ts'
import type { InboxRecipient } from '../../functions/email/inbound/find-inboxes.ts'
import { normalAddress } from '../../functions/email/inbound/parse-message.ts'
import { findInboxesByAddress, MessageTooLarge, receiveMime, UnreadableMessage } from '../../functions/email/inbound/receive-mime.ts'
import { screenSenders } from '../../functions/email/lists/screen.ts'
import type { DnsResolver } from '../../functions/email/inbound/verdicts.ts'

export interface SmtpIngressOptions {
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** SMTP_MAX_BYTES by default (25 MB). */
  maxBytes?: number
  /** PEM certificate and key: STARTTLS is offered only with both. */
  tls?: { cert: string | Buffer; key: string | Buffer } | null
  /** DNS for the SPF, DKIM and DMARC checks (default: dnsResolver(DNS_SERVER)). */
  resolver?: DnsResolver
  /** Hears what went wrong without stopping the ingress. */
  onError?: (error: unknown) => void
}

export interface SmtpIngress {
  port: number
  close(): Promise<void>
}

/** SMTP replies carry a code: the sender's MTA reads 4xx as "try again later" and 5xx as "give up". */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message)
  }
}

/**
 * How long a connection reuses an inbox it found at RCPT: a client sending many messages to one inbox asks
 * the database once, not per message. Storing checks the inbox is still active, so an inbox disabled
 * meanwhile still gets nothing (550 after DATA instead of at RCPT).
 */
const sessionInboxMs = 10_000

/** The inboxes each connection has found, by address. */
const foundInboxes = new WeakMap<SMTPServerSession, Map<string, { inbox: InboxRecipient; at: number }>>()

async function findInbox(sql: Sql, session: SMTPServerSession, address: string): Promise<InboxRecipient | null> {
  const wanted = normalAddress(address)
  let found = foundInboxes.get(session)
  const known = found?.get(wanted)
  if (known && performance.now() - known.at < sessionInboxMs) return known.inbox
  const [inbox] = await findInboxesByAddress(sql, [wanted])
  if (!inbox) return null
  if (!found) {
    found = new Map()
    foundInboxes.set(session, found)
  }
  found.set(wanted, { inbox, at: performance.now() })
  return inbox
}

/**
 * Null when the recipient is an inbox here that takes mail from the envelope sender; else the 5xx to
 * answer. A sender its lists block is refused here, before any body is sent, when the inbox refuses
 * blocked senders; allow-list mode and the header From are judged after DATA.
 */
async function acceptRecipient(sql: Sql, session: SMTPServerSession, address: string): Promise<SmtpReply | null> {
  const inbox = await findInbox(sql, session, address)
  if (!inbox) return new SmtpReply(550, `5.1.1 <${address}>: no such inbox here`)
  const sender = session.envelope.mailFrom ? normalAddress(session.envelope.mailFrom.address) : ''
  if (!sender || inbox.blockedSenders !== 'refuse') return null
  const screening = await screenSenders(sql, inbox, [sender], { headerFromKnown: false })
  return screening.outcome === 'refuse'
    ? new SmtpReply(550, `5.7.1 <${address}> does not accept mail from <${sender}>: ${screening.reason}`)
    : null
}

export async function startSmtpIngress(sql: Sql, options: SmtpIngressOptions = {}): Promise<SmtpIngress> {
  const maxBytes = options.maxBytes ?? maxMessageBytes()
  const resolver = options.resolver ?? dnsResolver(process.env.DNS_SERVER || undefined)
  const onError = options.onError ?? ((error) => console.error('smtp:', error instanceof Error ? error.message : error))
  const tls = options.tls ?? null
  const server = new SMTPServer({
    name: process.env.SMTP_HOSTNAME || 'agentry.localhost',
    banner: 'Agentry inbound mail',
    size: maxBytes,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    logger: false,
    onRcptTo(address, session, callback) {
      acceptRecipient(sql, session, address.address).then(
        (refusal) => callback(refusal),
        (error) => {
          onError(error)
          callback(new SmtpReply(451, '4.3.0 Temporary failure looking up the recipient, try again later'))
        },
      )
    },
    onData(stream, session, callback) {
      receive(sql, stream, session, { maxBytes, resolver }).then(
        (note) => callback(null, note),
        (error) => {
          if (!(error instanceof SmtpReply)) onError(error)
          callback(asReply(error))
        },
      )
    },
  })
  server.on('error', onError)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 2525, options.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.server.address() as AddressInfo
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

async function receive(
  sql: Sql,
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  o: { maxBytes: number; resolver: DnsResolver },
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length
    // Past the limit the rest is read and dropped: the client must finish DATA before it hears 552.
    if (size <= o.maxBytes) chunks.push(chunk)
  }
  if (stream.sizeExceeded || size > o.maxBytes) throw new SmtpReply(552, `5.3.4 Message exceeds the ${o.maxBytes}-byte limit`)
  const raw = Buffer.concat(chunks, size)
  const mailFrom = session.envelope.mailFrom
  const found = foundInboxes.get(session)
  const inboxes = session.envelope.rcptTo.flatMap((r) => found?.get(normalAddress(r.address))?.inbox ?? [])
  const result = await receiveMime(
    sql,
    {
      raw: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength),
      envelope: { from: mailFrom ? mailFrom.address : null, to: session.envelope.rcptTo.map((r) => r.address) },
      remoteAddress: session.remoteAddress,
      helo: session.hostNameAppearsAs,
      source: 'smtp',
    },
    { resolver: o.resolver, inboxes },
  )
  if (result.accepted.length === 0 && result.refused.length > 0) {
    throw new SmtpReply(550, `5.7.1 Refused by every recipient: ${result.refused[0].reason}`)
  }
  // An inbox disabled between RCPT and DATA leaves nothing to deliver to.
  if (result.accepted.length === 0) throw new SmtpReply(550, '5.1.1 No inbox here for any recipient')
  return `Stored as ${result.accepted.map((a) => a.messageId).join(' ')}`
}

function asReply(error: unknown): SmtpReply {
  if (error instanceof SmtpReply) return error
  if (error instanceof MessageTooLarge) return new SmtpReply(552, `5.3.4 ${error.message}`)
  if (error instanceof UnreadableMessage) return new SmtpReply(550, '5.6.0 The message could not be parsed as MIME')
  // Nothing was acknowledged: the sender keeps the message and tries again.
  return new SmtpReply(451, '4.3.0 Temporary failure storing the message, try again later')
}

/** mailauth's resolver over node:dns, asking `server` (`host[:port]`) when given, else the system's servers. */
export function dnsResolver(server?: string): DnsResolver {
  const dns = new Resolver({ timeout: 3000, tries: 2 })
  if (server) dns.setServers([server])
  return (name, type) => dns.resolve(name, type)
}

/** The certificate and key named by SMTP_TLS_CERT and SMTP_TLS_KEY (file paths), or null unless both are set. */
export function tlsFromEnvironment(): { cert: Buffer; key: Buffer } | null {
  const cert = process.env.SMTP_TLS_CERT
  const key = process.env.SMTP_TLS_KEY
  return cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : null
}
