// Queues a reply or a forward the way a send is queued (functions/email/outbound/queue-send.ts): the
// recipients on the sending inbox's suppression list are left out, the message is stored with its raw MIME in
// its thread, a job delivers it, and one send is taken from the plan's allowance last. What differs is that the
// headers, recipients and thread come from the original message, and that a forward may carry the original
// whole, as a message/rfc822 part. With `sendAt` it waits as `scheduled` for a job due then, as a scheduled send does.
import type { TenantClaims, Tx } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { enqueueJob } from '../../_core/jobs/queue.ts'
import { recordSuppressed, suppressedAmong } from '../delivery/suppressed-recipients.ts'
import { baseSubject } from '../inbound/base-subject.ts'
import type { Mailbox } from '../outbound/addresses.ts'
import { composeMime } from '../outbound/compose.ts'
import { sendMessageKind } from '../outbound/delivery-kind.ts'
import type { QueuedSend } from '../outbound/queue-send.ts'
import {
  attachAttachments,
  findSendingInbox,
  insertQueuedMessage,
  insertThread,
  recordOutboundInThread,
  type SendingInbox,
  storeRaw,
  takeSendAllowance,
} from '../outbound/send-queries.ts'
import { sendingLimitReached } from '../outbound/sending-limits.ts'

const snippetChars = 200

export interface ComposedMessage {
  inbox: SendingInbox
  /** The thread the message joins; null starts a thread of its own. */
  threadId: string | null
  to: Mailbox[]
  cc: Mailbox[]
  subject: string
  text: string | null
  html: string | null
  inReplyTo: string | null
  references: string[]
  /** Stored attachments the message carries (copied from the original's). */
  attachmentIds: string[]
  /** The original message, whole, as a message/rfc822 attachment. */
  enclosed: { filename: string; raw: Uint8Array } | null
  /** When it is sent (checked by scheduledTime in ../outbound/send-at.ts); null sends it now. */
  sendAt: Date | null
}

export const nobodyLeft = () => new ApiError('unprocessable', 'The message has nobody to go to but the inbox itself; nothing was sent.')

/** The inbox the original belongs to, which the reply or forward leaves from. */
export async function sendingInboxOf(tx: Tx, inboxId: string): Promise<SendingInbox> {
  const inbox = await findSendingInbox(tx, { inboxId })
  if (!inbox) throw new ApiError('not_found', 'Message not found.')
  if (inbox.status !== 'active') throw new ApiError('conflict', 'The sending inbox is disabled.')
  return inbox
}

export async function queueComposed(tx: Tx, claims: TenantClaims, m: ComposedMessage): Promise<QueuedSend> {
  const { inbox } = m
  const asked = [...new Set([...m.to, ...m.cc].map((b) => b.address))]
  const suppressed = await suppressedAmong(tx, inbox.id, asked)
  const left = (boxes: Mailbox[]) => boxes.filter((b) => !suppressed.some((s) => s.address === b.address))
  const to = left(m.to)
  const cc = left(m.cc)
  if (to.length + cc.length === 0) {
    if (!suppressed.length) throw nobodyLeft()
    throw new ApiError(
      'unprocessable',
      `Every recipient is on the sending inbox's suppression list (${suppressed.map((s) => `${s.address}: ${s.reason}`).join(', ')}); ` +
        'nothing was sent. DELETE /delivery/suppressions/{id} removes an address.',
    )
  }
  const messageIdHeader = `${crypto.randomUUID()}@${inbox.domain}`
  const addresses = (boxes: Mailbox[]) => boxes.map((b) => b.address)
  const from = { address: inbox.address, name: inbox.name ?? null }
  const threadId = m.threadId ?? (await insertThread(tx, claims.org_id, inbox.id, m.subject, baseSubject(m.subject)))
  const message = await insertQueuedMessage(tx, {
    orgId: claims.org_id,
    inboxId: inbox.id,
    threadId,
    messageIdHeader,
    inReplyTo: m.inReplyTo,
    references: m.references,
    from,
    to: addresses(to),
    cc: addresses(cc),
    bcc: [],
    replyTo: [],
    subject: m.subject,
    text: m.text,
    html: m.html,
    sendAt: m.sendAt,
  })
  const attachments = m.attachmentIds.length ? await attachAttachments(tx, message.id, m.attachmentIds) : []
  const raw = await composeMime({
    messageId: messageIdHeader,
    from,
    to,
    cc,
    replyTo: [],
    subject: m.subject,
    text: m.text ?? (m.html === null ? '' : null),
    html: m.html,
    inReplyTo: m.inReplyTo,
    references: m.references,
    date: new Date(message.created_at),
    attachments: [
      ...attachments.map((a) => ({ filename: a.filename, contentType: a.content_type, content: a.content, contentId: a.content_id })),
      ...(m.enclosed ? [{ filename: m.enclosed.filename, contentType: 'message/rfc822', content: m.enclosed.raw, contentId: null }] : []),
    ],
  })
  await storeRaw(tx, message.id, raw)
  await recordOutboundInThread(tx, threadId, {
    at: message.created_at,
    snippet: snippetOf(m.text, m.html),
    participants: [...new Set([inbox.address, ...addresses(to), ...addresses(cc)])],
    hasAttachments: attachments.length > 0 || m.enclosed !== null,
  })
  await recordSuppressed(tx, { orgId: claims.org_id, inboxId: inbox.id, messageId: message.id }, suppressed)
  await enqueueJob(tx, sendMessageKind, { message_id: message.id }, { runAt: m.sendAt })

  const allowance = await takeSendAllowance(tx)
  if (!allowance.allowed) throw sendingLimitReached(allowance)
  return {
    result: {
      message_id: message.id,
      thread_id: threadId,
      status: m.sendAt ? 'scheduled' : 'queued',
      ...(m.sendAt ? { send_at: m.sendAt.toISOString() } : {}),
      accepted: [...new Set([...to, ...cc].map((b) => b.address))],
      rejected: [],
      suppressed: suppressed.map((s) => s.address),
    },
    allowance,
  }
}

function snippetOf(text: string | null, html: string | null): string {
  const plain = text ?? (html ?? '').replace(/<[^>]*>/g, ' ')
  return plain.replace(/\s+/g, ' ').trim().slice(0, snippetChars)
}
