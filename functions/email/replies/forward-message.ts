import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { type Tx, withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { HeldForApproval } from '../drafts/schemas.ts'
import { type Mailbox, parseMailbox } from '../outbound/addresses.ts'
import { composeMime } from '../outbound/compose.ts'
import { SendResult } from '../outbound/schemas.ts'
import { scheduledTime } from '../outbound/send-at.ts'
import { sendingLimitHeaders } from '../outbound/sending-limits.ts'
import { forwardedHtml, forwardedText } from './forwarded-block.ts'
import { heldAnswer, heldForApproval, refuseEnclosedForApproval } from './approval.ts'
import { findOriginal, type OriginalMessage, requireOriginal } from './original.ts'
import { sendOnce } from './once.ts'
import { queueComposed, sendingInboxOf } from './queue-message.ts'
import { ForwardBody, MessageParams } from './schemas.ts'
import { forwardSubject } from './subject.ts'

export const forwardMessageRoute = defineRoute({
  method: 'post',
  path: '/messages/{id}/forward',
  scope: 'messages:write',
  tags: ['Messages'],
  summary: 'Forward a message',
  description:
    'Queues a new message from the inbox that received (or sent) the message, in a thread of its own, with the subject ' +
    '"Fwd: " and the original\'s words. The original goes whole as a message/rfc822 attachment, with its own attachments ' +
    'inside; with `inline`, it is quoted in the body under a header block (From, Date, Subject, To, Cc) and its attachments ' +
    'are attached again. `text` or `html` is a note above it. Sending limits, the `X-Email-Limit-*` headers, the ' +
    'suppression list, `Idempotency-Key` and `send_at` (the forward waits as `scheduled`; DELETE /messages/{id}/schedule ' +
    'cancels it) work as on `POST /messages/send`. From an agent key, an inline forward from an ' +
    'inbox that requires approval is kept as a `pending_approval` draft instead (as a send is); a forward as an attachment ' +
    'is refused there with 409, since a draft cannot hold the original whole.',
  request: { params: MessageParams, body: { content: { 'application/json': { schema: ForwardBody } } } },
  errors: {
    404: 'No such message for this credential',
    409: "The inbox of the message is disabled, or requires approval for an agent's forward as an attachment, or the Idempotency-Key was used for another request or is still being answered",
    422: "Every recipient is on the sending inbox's suppression list, or the only one is the inbox itself: nothing was sent",
    429: "The organisation's rate limit or the plan's sending limit is reached; see `Retry-After`",
  },
  responses: {
    202: {
      description: 'The forward is queued (or scheduled), or held for approval as a draft',
      content: { 'application/json': { schema: z.union([dataOf(SendResult), HeldForApproval]) } },
    },
  },
})

const listOf = (value: string | string[] | undefined): Mailbox[] =>
  (value === undefined ? [] : Array.isArray(value) ? value : [value]).map((s) => parseMailbox(s)!)

/** The original as it travelled; one stored without its raw bytes is written anew from what was kept of it. */
async function rawOf(o: OriginalMessage): Promise<Uint8Array> {
  if (o.raw) return o.raw
  return composeMime({
    messageId: o.message_id_header ?? `${o.id}@forwarded.invalid`,
    from: parseMailbox(o.from_address ?? '') ?? { address: 'unknown@forwarded.invalid', name: null },
    to: listOf(o.to_addresses),
    cc: listOf(o.cc_addresses),
    replyTo: [],
    subject: o.subject ?? '',
    text: o.text,
    html: o.html,
    inReplyTo: null,
    references: o.references,
    date: new Date(o.created_at),
    attachments: [],
  })
}

const filenameOf = (subject: string | null) =>
  `${
    (subject ?? '')
      .replace(/[^\p{L}\p{N} ._-]+/gu, '')
      .trim()
      .slice(0, 80) || 'message'
  }.eml`

export const registerForwardMessage = (api: Api) =>
  api.openapi(forwardMessageRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const tenant = tenantOf(c)
    const request = { route: `POST /messages/${id}/forward`, body, mayRequest: (tx: Tx) => requireOriginal(tx, id) }
    const answer = await sendOnce(tenant, c.req.header('idempotency-key'), request, async () => {
      const sendAt = scheduledTime(body.send_at)
      const outcome = await withTenant(tenant, async (tx: Tx) => {
        const original = await findOriginal(tx, id)
        if (!original) throw notFound('Message')
        const inbox = await sendingInboxOf(tx, original.inbox_id)
        const common = { inbox, to: listOf(body.to), cc: listOf(body.cc), subject: forwardSubject(original.subject), sendAt }
        const fresh = { threadId: null, inReplyTo: null, references: [] }
        if (body.inline) {
          const inline = {
            text: forwardedText(body.text, original),
            html: forwardedHtml(body, original),
            attachmentIds: original.attachment_ids,
          }
          const held = await heldForApproval(tx, c.get('principal'), inbox.id, { ...common, ...inline, threadId: null })
          if (held) return held
          return queueComposed(tx, tenant, { ...common, ...fresh, ...inline, enclosed: null })
        }
        await refuseEnclosedForApproval(tx, c.get('principal'), inbox.id)
        return queueComposed(tx, tenant, {
          ...common,
          ...fresh,
          text: body.text ?? null,
          html: body.html ?? null,
          attachmentIds: [],
          enclosed: { filename: filenameOf(original.subject), raw: await rawOf(original) },
        })
      })
      if ('held' in outcome) return { status: 202, body: heldAnswer(outcome) }
      return { status: 202, body: { data: outcome.result }, headers: sendingLimitHeaders(outcome.allowance) }
    })
    return c.json(answer.body as never, 202, 'headers' in answer ? answer.headers : undefined)
  })
