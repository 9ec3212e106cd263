// The one inbound path: the SMTP ingress, POST /inbound/mime and local delivery between inboxes all hand
// a raw message here. Each recipient inbox gets its own committed transaction; a caller acknowledges the
// message (SMTP's 250) only after this returns, so nothing acknowledged is ever lost.
import type { Sql } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { screenSenders } from '../lists/screen.ts'
import { sharedDomain } from '../shared-domain.ts'
import { findInboxesByAddress, type InboxRecipient } from './find-inboxes.ts'
import { MessageTooLarge, maxAttachmentBytes, maxMessageBytes } from './limits.ts'
import { normalAddress, parseMessage } from './parse-message.ts'
import { spamVerdict } from './spam.ts'
import { needsTransaction, storeInboundMessage } from './store-message.ts'
import { type AuthVerdicts, checkAuthentication, type DnsResolver, localVerdicts } from './verdicts.ts'

export interface InboundEnvelope {
  /** MAIL FROM; null for a bounce (`<>`). */
  from: string | null
  /** RCPT TO: the inboxes the message is for, whatever its To and Cc say. */
  to: string[]
}

export interface InboundMime {
  raw: Uint8Array
  envelope: InboundEnvelope
  /** The SMTP client's IP address (for SPF); unknown behind a provider's webhook. */
  remoteAddress?: string
  /** The name the SMTP client gave in EHLO. */
  helo?: string
  source: 'smtp' | 'webhook' | 'local'
}

export interface ReceiveOptions {
  /** DNS for the SPF, DKIM and DMARC checks (default: the system's resolver). */
  resolver?: DnsResolver
  /**
   * The envelope recipients' inboxes as the caller already found them (the SMTP ingress, at RCPT), so they
   * are not looked up twice. Storing checks each is still active.
   */
  inboxes?: InboxRecipient[]
}

export interface ReceivedMessage {
  inboxId: string
  messageId: string
  threadId: string
}

export interface ReceiveResult {
  /** One entry per recipient inbox; a message the inbox had already is listed with its first copy's ids. */
  accepted: ReceivedMessage[]
  /** Envelope recipients that are no active inbox here, or whose inbox refused the sender. */
  rejected: string[]
  /** The inboxes that refused the sender (their block list, or allow-list mode), each with why. */
  refused: { address: string; reason: string }[]
}

export { findInboxesByAddress } from './find-inboxes.ts'
export { MessageTooLarge } from './limits.ts'
export { UnreadableMessage } from './parse-message.ts'

/**
 * Stores a raw message in every inbox among its envelope recipients. Throws MessageTooLarge or
 * UnreadableMessage (nothing stored) for what must be refused; database failures propagate, and the inboxes
 * committed before one are kept (a retry finds them by Message-ID and stores nothing twice).
 */
export async function receiveMime(sql: Sql, input: InboundMime, options: ReceiveOptions = {}): Promise<ReceiveResult> {
  const limit = maxMessageBytes()
  if (input.raw.byteLength > limit) throw new MessageTooLarge(limit)
  const recipients = [...new Set(input.envelope.to.map(normalAddress))]
  const wanted = new Set(recipients)
  const inboxes = options.inboxes
    ? [...new Map(options.inboxes.filter((i) => wanted.has(i.address)).map((i) => [i.id, i])).values()]
    : await findInboxesByAddress(sql, recipients)
  const known = new Set(inboxes.map((i) => i.address))
  const rejected = recipients.filter((r) => !known.has(r))
  if (inboxes.length === 0) return { accepted: [], rejected, refused: [] }

  const message = await parseMessage(input.raw)
  const auth: AuthVerdicts =
    input.source === 'local'
      ? localVerdicts
      : await checkAuthentication({
          raw: input.raw,
          envelopeFrom: input.envelope.from,
          remoteAddress: input.remoteAddress,
          helo: input.helo,
          resolver: options.resolver,
        })
  const perAttachment = maxAttachmentBytes()
  const accepted: ReceivedMessage[] = []
  const refused: ReceiveResult['refused'] = []
  const senders = [input.envelope.from ?? '', message.from?.address ?? ''].map(normalAddress)
  const shared = sharedDomain(readEnv)
  for (const inbox of inboxes) {
    const screening = await screenSenders(sql, inbox, senders)
    if (screening.outcome === 'refuse') {
      refused.push({ address: inbox.address, reason: screening.reason })
      rejected.push(inbox.address)
      continue
    }
    const spam = spamVerdict({
      message,
      auth,
      crossedNetwork: input.source !== 'local',
      ourDomains: [...new Set([shared, inbox.domain])],
      threshold: inbox.spamThreshold,
    })
    // A sender the inbox or its organisation allows explicitly keeps its verdict but is not routed to spam.
    const allowListed = screening.outcome === 'accept' && screening.allowed
    const labels = [...(screening.outcome === 'flag' ? ['blocked'] : []), ...(spam.verdict === 'spam' && !allowListed ? ['spam'] : [])]
    const store = { inbox, message, auth, spam, labels, raw: input.raw, maxAttachmentBytes: perAttachment }
    // Without attachments storing is one statement, committed on its own.
    const stored = needsTransaction(message)
      ? await sql.begin((tx) => storeInboundMessage(tx, store))
      : await storeInboundMessage(sql, store)
    if (stored) accepted.push({ inboxId: stored.inboxId, messageId: stored.messageId, threadId: stored.threadId })
    // Disabled since it was found: nothing stored for it.
    else rejected.push(inbox.address)
  }
  return { accepted, rejected, refused }
}
