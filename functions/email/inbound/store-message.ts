// One inbound message into one inbox: the message with its raw bytes, its thread's counters, the extraction
// job and the event in one statement (agentry.store_inbound_message, which holds the threading and
// duplicate rules), so they commit together or not at all. Attachments and delivery reports are written
// after it in the caller's transaction: `needsTransaction` says when there is one to open.
import { Buffer } from 'node:buffer'
import { databaseNow } from '../../_core/clock.ts'
import type { Db } from '../../_core/db.ts'
import { recordDeliveryReport } from '../delivery/record-report.ts'
import type { InboxRecipient } from './find-inboxes.ts'
import type { ParsedMessage } from './parse-message.ts'
import { subjectMatchDays } from './threading.ts'
import type { SpamVerdict } from './spam.ts'
import type { AuthVerdicts } from './verdicts.ts'

export interface StoredMessage {
  inboxId: string
  messageId: string
  threadId: string
  /** False when the inbox had this Message-ID already: nothing was stored again. */
  created: boolean
}

export interface StoreInput {
  inbox: InboxRecipient
  message: ParsedMessage
  auth: AuthVerdicts
  spam: SpamVerdict
  /** `spam` past the inbox's threshold, `blocked` from a sender its lists block in flag mode. */
  labels: string[]
  raw: Uint8Array
  maxAttachmentBytes: number
}

const snippetChars = 200
const maxParticipants = 200

/** Whether storing this message takes more than one statement, and so a transaction of its own. */
export function needsTransaction(message: ParsedMessage): boolean {
  // Delivery reports are attachments too (their report part), so mail without any is one statement.
  return message.attachments.length > 0
}

/** The stored message, or null when the inbox is no longer active (nothing stored). */
export async function storeInboundMessage(db: Db, input: StoreInput): Promise<StoredMessage | null> {
  const { inbox, message: m } = input
  const kept = m.attachments.filter((a) => a.content.byteLength <= input.maxAttachmentBytes)
  const left = m.attachments.filter((a) => a.content.byteLength > input.maxAttachmentBytes)
  const note = left.length
    ? `Not stored, over the ${input.maxAttachmentBytes}-byte attachment limit: ${left.map((a) => `${a.filename} (${a.content.byteLength} bytes)`).join(', ')}`.slice(
        0,
        2000,
      )
    : null
  const fields = {
    message_id: m.messageId,
    in_reply_to: m.inReplyTo,
    references: m.references,
    participants: [...new Set([...(m.from ? [m.from.address] : []), ...m.to, ...m.cc])],
    from_address: m.from?.address ?? '',
    from_name: m.from?.name ?? null,
    to: m.to,
    cc: m.cc,
    reply_to: m.replyTo,
    subject: m.subject,
    base_subject: m.baseSubject,
    text: m.text,
    html: m.html,
    extracted_text: m.extractedText,
    snippet: (m.extractedText || m.text).replace(/\s+/g, ' ').trim().slice(0, snippetChars),
    auth: input.auth,
    spam: input.spam,
    labels: input.labels,
    is_auto_reply: m.isAutoReply,
    has_attachments: kept.length > 0,
    error: note,
    sent_at: m.sentAt?.toISOString() ?? null,
    // `message.received` as webhooks see it; the function adds the inbox, thread and message ids.
    event: {
      message_id_header: m.messageId,
      from: m.from?.address ?? '',
      from_name: m.from?.name ?? null,
      to: m.to,
      cc: m.cc,
      subject: m.subject,
      extracted_text: m.extractedText.slice(0, 4000),
      is_auto_reply: m.isAutoReply,
      has_attachments: kept.length > 0,
      spam: input.spam,
      labels: input.labels,
    },
  }
  const [row] = await db<{ message_id: string; thread_id: string; created: boolean }[]>`
    select message_id::text, thread_id::text, created
    from agentry.store_inbound_message(${inbox.id}, ${db.json(fields as never)}, ${bytea(input.raw)},
      ${databaseNow()}::timestamptz, ${subjectMatchDays}, ${maxParticipants})`
  if (!row) return null
  const stored = { inboxId: inbox.id, messageId: row.message_id, threadId: row.thread_id, created: row.created }
  if (!row.created) return stored

  for (const a of kept) {
    await db`
      insert into agentry.email_attachments (org_id, message_id, filename, content_type, size_bytes, sha256, content, content_id)
      values (${inbox.orgId}, ${row.message_id}, ${a.filename}, ${a.contentType}, ${a.content.byteLength}, ${await sha256Hex(a.content)},
        ${bytea(a.content)}, ${a.contentId})`
  }
  // A bounce or feedback report about mail this inbox sent is also kept as a message.
  await recordDeliveryReport(db, {
    orgId: inbox.orgId,
    inboxId: inbox.id,
    reportMessageId: row.message_id,
    raw: input.raw,
    parts: m.attachments,
    inReplyTo: m.inReplyTo,
  })
  return stored
}

// postgres.js sends a Buffer as bytea.
function bytea(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')
}
