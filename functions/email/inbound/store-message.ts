// One inbound message into one inbox, in the caller's transaction: the message with its raw bytes, its
// attachments, its thread's counters, the extraction job and the event commit together or not at all.
import { Buffer } from 'node:buffer'
import { databaseNow } from '../../_core/clock.ts'
import type { Db } from '../../_core/db.ts'
import { enqueueJobFor } from '../../_core/jobs/queue.ts'
import { recordDeliveryReport } from '../delivery/record-report.ts'
import type { InboxRecipient } from './find-inboxes.ts'
import type { ParsedMessage } from './parse-message.ts'
import { findThread } from './threading.ts'
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
  raw: Uint8Array
  maxAttachmentBytes: number
}

const snippetChars = 200
const maxParticipants = 200

export async function storeInboundMessage(tx: Db, input: StoreInput): Promise<StoredMessage> {
  const { inbox, message: m } = input
  // A retried delivery of the same message waits for the first to commit, then finds it.
  await tx`select pg_advisory_xact_lock(hashtextextended(${`${inbox.id} ${m.messageId}`}, 0))`
  const [existing] = await tx<{ id: string; thread_id: string }[]>`
    select id::text, thread_id::text from agentry.email_messages
    where inbox_id = ${inbox.id} and message_id_header = ${m.messageId}`
  if (existing) return { inboxId: inbox.id, messageId: existing.id, threadId: existing.thread_id, created: false }

  const people = [...new Set([...(m.from ? [m.from.address] : []), ...m.to, ...m.cc])]
  const threadId =
    (await findThread(tx, {
      inboxId: inbox.id,
      inboxAddress: inbox.address,
      inReplyTo: m.inReplyTo,
      references: m.references,
      baseSubject: m.baseSubject,
      participants: people,
    })) ?? (await createThread(tx, inbox, m))

  const kept = m.attachments.filter((a) => a.content.byteLength <= input.maxAttachmentBytes)
  const left = m.attachments.filter((a) => a.content.byteLength > input.maxAttachmentBytes)
  const note = left.length
    ? `Not stored, over the ${input.maxAttachmentBytes}-byte attachment limit: ${left.map((a) => `${a.filename} (${a.content.byteLength} bytes)`).join(', ')}`.slice(
        0,
        2000,
      )
    : null
  const at = databaseNow()
  const [row] = await tx<{ id: string }[]>`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, in_reply_to, "references",
      from_address, from_name, to_addresses, cc_addresses, reply_to, subject, text, html, extracted_text, auth, is_auto_reply,
      status, error, size_bytes, raw, sent_at, created_at)
    values (${inbox.orgId}, ${inbox.id}, ${threadId}, 'inbound', ${m.messageId}, ${m.inReplyTo}, ${m.references}::text[],
      ${m.from?.address ?? ''}, ${m.from?.name ?? null}, ${m.to}::text[], ${m.cc}::text[], ${m.replyTo}::text[], ${m.subject},
      ${m.text}, ${m.html}, ${m.extractedText}, ${tx.json(input.auth as never)}, ${m.isAutoReply}, 'received', ${note},
      ${input.raw.byteLength}, ${bytea(input.raw)}, ${m.sentAt}, coalesce(${at}::timestamptz, now()))
    returning id::text`
  for (const a of kept) {
    await tx`
      insert into agentry.email_attachments (org_id, message_id, filename, content_type, size_bytes, sha256, content, content_id)
      values (${inbox.orgId}, ${row.id}, ${a.filename}, ${a.contentType}, ${a.content.byteLength}, ${await sha256Hex(a.content)},
        ${bytea(a.content)}, ${a.contentId})`
  }
  await tx`
    update agentry.email_threads set
      message_count = message_count + 1,
      last_message_at = greatest(last_message_at, coalesce(${at}::timestamptz, now())),
      last_direction = 'inbound',
      snippet = ${snippetOf(m)},
      has_attachments = has_attachments or ${kept.length > 0},
      participants = (select coalesce(array_agg(distinct p), '{}') from unnest(participants || ${people}::text[]) as p)[1:${maxParticipants}],
      status = case when status = 'closed' or (status = 'waiting' and not ${m.isAutoReply}) then 'needs_reply' else status end,
      updated_at = coalesce(${at}::timestamptz, now())
    where id = ${threadId}`
  if (inbox.extractionEnabled) await enqueueJobFor(tx, inbox.orgId, 'email.extract_message', { message_id: row.id })
  await emitReceived(tx, inbox, { threadId, messageId: row.id, message: m, hasAttachments: kept.length > 0 })
  // A bounce or feedback report about mail this inbox sent is also kept as a message.
  await recordDeliveryReport(tx, {
    orgId: inbox.orgId,
    inboxId: inbox.id,
    reportMessageId: row.id,
    raw: input.raw,
    parts: m.attachments,
    inReplyTo: m.inReplyTo,
  })
  return { inboxId: inbox.id, messageId: row.id, threadId, created: true }
}

async function createThread(tx: Db, inbox: InboxRecipient, m: ParsedMessage): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject, base_subject, message_count, participants, created_at, updated_at)
    values (${inbox.orgId}, ${inbox.id}, ${m.subject}, ${m.baseSubject}, 0, '{}',
      coalesce(${databaseNow()}::timestamptz, now()), coalesce(${databaseNow()}::timestamptz, now()))
    returning id::text`
  return row.id
}

/** `message.received`, only when an endpoint of the organisation listens for it (as every event here). */
async function emitReceived(
  tx: Db,
  inbox: InboxRecipient,
  e: { threadId: string; messageId: string; message: ParsedMessage; hasAttachments: boolean },
): Promise<void> {
  const m = e.message
  const data = {
    inbox_id: inbox.id,
    thread_id: e.threadId,
    message_id: e.messageId,
    message_id_header: m.messageId,
    from: m.from?.address ?? '',
    from_name: m.from?.name ?? null,
    to: m.to,
    cc: m.cc,
    subject: m.subject,
    extracted_text: m.extractedText.slice(0, 4000),
    is_auto_reply: m.isAutoReply,
    has_attachments: e.hasAttachments,
  }
  await tx`
    insert into agentry.events (org_id, agent_id, type, data)
    select ${inbox.orgId}, ${inbox.agentId}, 'message.received', ${tx.json(data as never)}
    where ${inbox.orgId}::uuid in (select agentry.orgs_listening('message.received'))`
}

function snippetOf(m: ParsedMessage): string {
  return (m.extractedText || m.text).replace(/\s+/g, ' ').trim().slice(0, snippetChars)
}

// postgres.js sends a Buffer as bytea.
function bytea(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('')
}
