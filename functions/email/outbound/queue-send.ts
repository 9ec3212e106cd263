// What a send does inside the caller's transaction: finds the sending inbox (and, replying, the thread's
// headers), stores the message as queued with its raw MIME in its thread, enqueues the job that delivers
// it, and takes one send from the plan's allowance last, so that its counter row is locked only until COMMIT.
import type { Tx, TenantClaims } from '../../_core/db.ts'
import { ApiError } from '../../_core/errors.ts'
import { enqueueJob } from '../../_core/jobs/queue.ts'
import { recordSuppressed, suppressedAmong } from '../delivery/suppressed-recipients.ts'
import { baseSubject } from '../inbound/base-subject.ts'
import { type Mailbox, parseMailbox } from './addresses.ts'
import { composeMime } from './compose.ts'
import { sendMessageKind } from './delivery-kind.ts'
import type { SendBody } from './schemas.ts'
import {
  attachAttachments,
  findReplyContext,
  findSendingInbox,
  insertQueuedMessage,
  insertThread,
  type ReplyContext,
  recordOutboundInThread,
  type SendAllowance,
  type SendingInbox,
  storeRaw,
  takeSendAllowance,
} from './send-queries.ts'
import { scheduledTime } from './send-at.ts'
import { sendingLimitReached } from './sending-limits.ts'
import { replySubject } from './subject.ts'

/** References kept on a reply: the thread's first message and the latest ones (RFC 5322 allows dropping the middle). */
const maxReferences = 20
const snippetChars = 200

export interface QueuedSend {
  result: {
    message_id: string
    thread_id: string
    status: 'queued' | 'scheduled'
    send_at?: string
    accepted: string[]
    rejected: string[]
    suppressed: string[]
  }
  allowance: SendAllowance
}

const listOf = (value: string | string[] | undefined): Mailbox[] =>
  (value === undefined ? [] : Array.isArray(value) ? value : [value]).map((s) => parseMailbox(s)!)

/** The inbox a send leaves from and, for a reply, its thread; throws what the caller got wrong. */
export async function resolveSender(tx: Tx, body: SendBody): Promise<{ inbox: SendingInbox; reply: ReplyContext | null }> {
  const reply = body.thread_id ? ((await findReplyContext(tx, body.thread_id)) ?? null) : null
  if (body.thread_id && !reply) throw new ApiError('not_found', 'No such thread.')
  if (reply && body.inbox_id && body.inbox_id !== reply.inbox_id) {
    throw new ApiError('validation_failed', 'thread_id: the thread belongs to another inbox than inbox_id.')
  }
  const inboxId = body.inbox_id ?? reply?.inbox_id
  const from = body.from ? parseMailbox(body.from) : null
  if (!inboxId && !from && !body.domain_id) {
    throw new ApiError('validation_failed', 'Say which inbox sends: inbox_id, from or domain_id.')
  }
  const inbox = await findSendingInbox(tx, { inboxId, address: inboxId ? undefined : from?.address, domainId: body.domain_id })
  if (!inbox) {
    if (inboxId || !from) throw new ApiError('not_found', 'No such inbox.')
    throw new ApiError('validation_failed', 'from: no inbox of yours has this address.')
  }
  if (from && from.address !== inbox.address) {
    throw new ApiError('validation_failed', `from: must be the sending inbox's address, ${inbox.address}.`)
  }
  if (body.domain_id && inbox.domain_id !== body.domain_id) {
    throw new ApiError('validation_failed', 'domain_id: the sending inbox is not on this domain.')
  }
  if (inbox.status !== 'active') throw new ApiError('conflict', 'The sending inbox is disabled.')
  return { inbox, reply }
}

/**
 * Stores the message and enqueues its delivery: now, or, with `send_at`, as a job due then (the job queue
 * keeps it across restarts). `sendAt` overrides the body's when the caller has checked it already.
 */
export async function queueSend(tx: Tx, claims: TenantClaims, body: SendBody, options: { sendAt?: Date | null } = {}): Promise<QueuedSend> {
  const sendAt = options.sendAt !== undefined ? options.sendAt : scheduledTime(body.send_at)
  const { inbox, reply } = await resolveSender(tx, body)
  const fromName = (body.from ? parseMailbox(body.from)?.name : null) ?? inbox.name ?? null
  const asked = [...listOf(body.to), ...listOf(body.cc), ...listOf(body.bcc)].map((b) => b.address)
  const suppressed = await suppressedAmong(tx, inbox.id, [...new Set(asked)])
  const left = (boxes: Mailbox[]) => boxes.filter((b) => !suppressed.some((s) => s.address === b.address))
  const to = left(listOf(body.to))
  const cc = left(listOf(body.cc))
  const bcc = left(listOf(body.bcc))
  if (to.length + cc.length + bcc.length === 0) {
    throw new ApiError(
      'unprocessable',
      `Every recipient is on the sending inbox's suppression list (${suppressed.map((s) => `${s.address}: ${s.reason}`).join(', ')}); ` +
        'nothing was sent. DELETE /delivery/suppressions/{id} removes an address.',
    )
  }
  const replyTo = listOf(body.reply_to)
  const subject = reply ? replySubject(body.subject) : body.subject
  const chain = reply?.last_message_id ? [...reply.last_references, reply.last_message_id] : []
  const references = chain.length > maxReferences ? [chain[0], ...chain.slice(-(maxReferences - 1))] : chain
  const messageIdHeader = `${crypto.randomUUID()}@${inbox.domain}`
  const addresses = (boxes: Mailbox[]) => boxes.map((b) => b.address)

  const threadId = reply ? body.thread_id! : await insertThread(tx, claims.org_id, inbox.id, subject, baseSubject(subject))
  const message = await insertQueuedMessage(tx, {
    orgId: claims.org_id,
    inboxId: inbox.id,
    threadId,
    messageIdHeader,
    inReplyTo: reply?.last_message_id ?? null,
    references,
    from: { address: inbox.address, name: fromName },
    to: addresses(to),
    cc: addresses(cc),
    bcc: addresses(bcc),
    replyTo: addresses(replyTo),
    subject,
    text: body.text ?? null,
    html: body.html ?? null,
    sendAt,
  })

  const wanted = [...new Set(body.attachments ?? [])]
  const attachments = wanted.length ? await attachAttachments(tx, message.id, wanted) : []
  const missing = wanted.filter((id) => !attachments.some((a) => a.id === id))
  if (missing.length) throw new ApiError('validation_failed', `attachments: no uploaded attachment ${missing.join(', ')}.`)

  const raw = await composeMime({
    messageId: messageIdHeader,
    from: { address: inbox.address, name: fromName },
    to,
    cc,
    replyTo,
    subject,
    text: body.text ?? null,
    html: body.html ?? null,
    inReplyTo: reply?.last_message_id ?? null,
    references,
    date: new Date(message.created_at),
    attachments: wanted.map((id) => {
      const a = attachments.find((x) => x.id === id)!
      return { filename: a.filename, contentType: a.content_type, content: a.content, contentId: a.content_id }
    }),
  })
  await storeRaw(tx, message.id, raw)
  const recipients = [...new Set([...to, ...cc, ...bcc].map((b) => b.address))]
  await recordOutboundInThread(tx, threadId, {
    at: message.created_at,
    snippet: snippetOf(body),
    participants: [...new Set([inbox.address, ...addresses(to), ...addresses(cc)])],
    hasAttachments: attachments.length > 0,
  })
  await recordSuppressed(tx, { orgId: claims.org_id, inboxId: inbox.id, messageId: message.id }, suppressed)
  await enqueueJob(tx, sendMessageKind, { message_id: message.id }, { runAt: sendAt })

  const allowance = await takeSendAllowance(tx)
  if (!allowance.allowed) throw sendingLimitReached(allowance)
  return {
    result: {
      message_id: message.id,
      thread_id: threadId,
      status: sendAt ? 'scheduled' : 'queued',
      ...(sendAt ? { send_at: sendAt.toISOString() } : {}),
      accepted: recipients,
      rejected: [],
      suppressed: suppressed.map((s) => s.address),
    },
    allowance,
  }
}

function snippetOf(body: SendBody): string {
  const text = body.text ?? (body.html ?? '').replace(/<[^>]*>/g, ' ')
  return text.replace(/\s+/g, ' ').trim().slice(0, snippetChars)
}
