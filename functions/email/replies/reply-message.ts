import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { type Tx, withTenant } from '../../_core/db.ts'
import { notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { HeldForApproval } from '../drafts/schemas.ts'
import { SendResult } from '../outbound/schemas.ts'
import { scheduledTime } from '../outbound/send-at.ts'
import { sendingLimitHeaders } from '../outbound/sending-limits.ts'
import { replySubject } from '../outbound/subject.ts'
import { heldAnswer, heldForApproval } from './approval.ts'
import { findOriginal, requireOriginal } from './original.ts'
import { sendOnce } from './once.ts'
import { nobodyLeft, queueComposed, sendingInboxOf } from './queue-message.ts'
import { replyRecipients } from './recipients.ts'
import { MessageParams, ReplyBody } from './schemas.ts'

/** References kept on a reply: the first and the latest (RFC 5322 allows dropping the middle). */
const maxReferences = 20

export const replyToMessageRoute = defineRoute({
  method: 'post',
  path: '/messages/{id}/reply',
  scope: 'messages:write',
  tags: ['Messages'],
  summary: 'Reply to a message',
  description:
    'Queues a reply from the inbox that received (or sent) the message, in its thread. It goes to the Reply-To of a ' +
    'received message, else its sender (for a message the inbox sent: to its To); with `reply_all`, also to the ' +
    "original's To and Cc. The inbox's own address is never a recipient, nor anyone twice. `In-Reply-To` is the " +
    'message\'s Message-ID, `References` its References and Message-ID, and the subject has one "Re: ". Sending limits, ' +
    'the `X-Email-Limit-*` headers, the suppression list, `Idempotency-Key` and `send_at` (the reply waits as `scheduled`; ' +
    'DELETE /messages/{id}/schedule cancels it) work as on `POST /messages/send`. From an agent key, a reply from an inbox that requires approval is kept as a `pending_approval` draft in the thread instead (as a send is).',
  request: { params: MessageParams, body: { content: { 'application/json': { schema: ReplyBody } } } },
  errors: {
    404: 'No such message for this credential',
    409: 'The inbox of the message is disabled, or the Idempotency-Key was used for another request or is still being answered',
    422: "Nobody is left to reply to: only the inbox's own address, or every recipient is suppressed",
    429: "The organisation's rate limit or the plan's sending limit is reached; see `Retry-After`",
  },
  responses: {
    202: {
      description: 'The reply is queued (or scheduled), or held for approval as a draft',
      content: { 'application/json': { schema: z.union([dataOf(SendResult), HeldForApproval]) } },
    },
  },
})

export const registerReplyToMessage = (api: Api) =>
  api.openapi(replyToMessageRoute, async (c) => {
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const tenant = tenantOf(c)
    const request = { route: `POST /messages/${id}/reply`, body, mayRequest: (tx: Tx) => requireOriginal(tx, id) }
    const answer = await sendOnce(tenant, c.req.header('idempotency-key'), request, async () => {
      const sendAt = scheduledTime(body.send_at)
      const outcome = await withTenant(tenant, async (tx) => {
        const original = await findOriginal(tx, id)
        if (!original) throw notFound('Message')
        const inbox = await sendingInboxOf(tx, original.inbox_id)
        const { to, cc } = replyRecipients(original, inbox.address, body.reply_all)
        if (!to.length) throw nobodyLeft()
        const subject = replySubject(original.subject ?? '')
        const draft = {
          to,
          cc,
          subject,
          text: body.text ?? null,
          html: body.html ?? null,
          threadId: original.thread_id,
          attachmentIds: [],
          sendAt,
        }
        const held = await heldForApproval(tx, c.get('principal'), inbox.id, draft)
        if (held) return held
        const chain = original.message_id_header ? [...original.references, original.message_id_header] : original.references
        return queueComposed(tx, tenant, {
          inbox,
          threadId: original.thread_id,
          to,
          cc,
          subject,
          text: body.text ?? null,
          html: body.html ?? null,
          inReplyTo: original.message_id_header,
          references: chain.length > maxReferences ? [chain[0], ...chain.slice(-(maxReferences - 1))] : chain,
          attachmentIds: [],
          enclosed: null,
          sendAt,
        })
      })
      if ('held' in outcome) return { status: 202, body: heldAnswer(outcome) }
      return { status: 202, body: { data: outcome.result }, headers: sendingLimitHeaders(outcome.allowance) }
    })
    return c.json(answer.body as never, 202, 'headers' in answer ? answer.headers : undefined)
  })
