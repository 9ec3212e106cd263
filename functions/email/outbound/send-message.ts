import type { Api } from '../../_core/server.ts'
import { z } from '@hono/zod-openapi'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { claimIdempotencyKey, type StoredAnswer } from '../../_core/idempotency.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { holdForApproval } from '../drafts/operations.ts'
import { HeldForApproval, heldMessage } from '../drafts/schemas.ts'
import { draftView } from '../drafts/view.ts'
import { queueSend, resolveSender } from './queue-send.ts'
import { SendBody, SendResult } from './schemas.ts'
import { sendingLimitHeaders } from './sending-limits.ts'

export const sendEmailRoute = defineRoute({
  method: 'post',
  path: '/messages/send',
  scope: 'messages:write',
  tags: ['Messages'],
  summary: 'Send an email',
  description:
    'Queues an email from one of your inboxes (`inbox_id`, else the inbox whose address is `from`, else the first inbox ' +
    "of `domain_id`; with `thread_id`, the thread's inbox) and answers at once; a job delivers it: to another inbox " +
    "here directly, elsewhere through the configured SMTP relay (DKIM-signed with a verified domain's key), or, with no " +
    'relay, into the outbox (`GET /outbox`). With `thread_id` the message is a reply: `In-Reply-To` and `References` ' +
    'come from the thread and the subject gets one "Re: ". Header fields with a line break are refused. Send ' +
    '`Idempotency-Key` to make a retry answer the first send instead of sending again (kept 24 h). Each send counts ' +
    "against the plan's hourly and daily sending limits, reported in `X-Email-Limit-Hour`, `X-Email-Limit-Hour-Remaining`, " +
    '`X-Email-Limit-Hour-Reset` and the same for `Day` (reset in Unix seconds); past either, 429 with `Retry-After`. ' +
    "Recipients on the sending inbox's suppression list (hard bounces and complaints, `GET /delivery/suppressions`) are " +
    'left out of the message and listed in `suppressed`; when that leaves none, 422 and nothing is queued. With `send_at` ' +
    '(at most 30 days ahead) the message waits as `scheduled` and is sent then; DELETE /messages/{id}/schedule cancels it. ' +
    'From an agent key, a send from an inbox that requires approval (`requires_approval`) is not sent: it is kept as a ' +
    '`pending_approval` draft, answered with 202 and a `message` saying so (see POST /drafts/{id}/send).',
  request: { body: { content: { 'application/json': { schema: SendBody } } } },
  errors: {
    404: 'No such inbox, domain or thread for this credential',
    409: 'The sending inbox is disabled, or the Idempotency-Key was used for another request or is still being answered',
    422: "Every recipient is on the sending inbox's suppression list: nothing was sent",
    429: "The organisation's rate limit or the plan's sending limit is reached; see `Retry-After`",
  },
  responses: {
    202: {
      description: 'The message is queued (or scheduled), or held for approval as a draft',
      content: { 'application/json': { schema: z.union([dataOf(SendResult), HeldForApproval]) } },
    },
  },
})

export const registerSendEmail = (api: Api) =>
  api.openapi(sendEmailRoute, async (c) => {
    const body = c.req.valid('json')
    const tenant = tenantOf(c)
    const key = c.req.header('idempotency-key')
    const idempotency =
      key === undefined
        ? null
        : await claimIdempotencyKey(tenant, key, 'POST /messages/send', body, async (tx) => {
            await resolveSender(tx, body)
          })
    if (idempotency?.kind === 'replay') return c.json(idempotency.answer.body as never, idempotency.answer.status as 202)

    const remember = async (answer: StoredAnswer | null) => {
      if (idempotency?.kind !== 'first') return
      if (answer) await idempotency.complete(answer)
      else await idempotency.abandon()
    }
    try {
      const principal = c.get('principal')
      const outcome = await withTenant(tenant, async (tx) => {
        const held = principal.agentId ? await holdForApproval(tx, principal, (await resolveSender(tx, body)).inbox.id, body) : null
        return held ? { held, queued: null } : { held: null, queued: await queueSend(tx, tenant, body) }
      })
      if (outcome.held) {
        const answer = { data: draftView(outcome.held), message: heldMessage(outcome.held.id) }
        await remember({ status: 202, body: answer })
        return c.json(answer, 202)
      }
      const queued = outcome.queued!
      await remember({ status: 202, body: { data: queued.result } })
      return c.json({ data: queued.result }, 202, sendingLimitHeaders(queued.allowance))
    } catch (error) {
      await remember(null)
      throw error
    }
  })
