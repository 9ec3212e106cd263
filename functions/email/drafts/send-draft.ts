import type { Api } from '../../_core/server.ts'
import { z } from '@hono/zod-openapi'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { sendingLimitHeaders } from '../outbound/sending-limits.ts'
import { sendDraft } from './operations.ts'
import { Draft, DraftParams, HeldForApproval, heldMessage } from './schemas.ts'
import { draftView } from './view.ts'

export const sendDraftRoute = defineRoute({
  method: 'post',
  path: '/drafts/{id}/send',
  scope: 'messages:write',
  tags: ['Drafts'],
  summary: 'Send a draft',
  description:
    'Sends the draft as POST /messages/send would send its fields (checked as that route checks them: 400 for what is ' +
    'missing), scheduled when it has a `send_at` still ahead; the draft becomes `sent` with the `message_id` it became, and ' +
    '`draft.sent` is raised. A draft `pending_approval` is sent only by an organisation key (bound to no agent) holding ' +
    '`drafts:approve` or `*`, or an owner or admin; anyone else gets 403. An agent key sending its draft from an inbox that ' +
    'requires approval gets it held instead (202, `pending_approval`).',
  request: { params: DraftParams },
  errors: {
    400: 'The draft lacks what a send needs (`to`, `subject`, text or html) or names something invalid',
    403: "The credential lacks the route's scope, or the draft waits for approval and the credential may not approve",
    409: 'The draft was sent already, or the sending inbox is disabled',
    422: "Every recipient is on the sending inbox's suppression list: nothing was sent",
    429: "The organisation's rate limit or the plan's sending limit is reached; see `Retry-After`",
  },
  responses: {
    202: {
      description: 'The draft is sent (its message queued, or scheduled), or held for approval',
      content: { 'application/json': { schema: z.union([z.object({ data: Draft }), HeldForApproval]) } },
    },
  },
})

export const registerSendDraft = (api: Api) =>
  api.openapi(sendDraftRoute, async (c) => {
    const { id } = c.req.valid('param')
    const tenant = tenantOf(c)
    const outcome = await withTenant(tenant, (tx) => sendDraft(tx, tenant, c.get('principal'), id))
    if ('held' in outcome) return c.json({ data: draftView(outcome.held), message: heldMessage(outcome.held.id) }, 202)
    return c.json({ data: draftView(outcome.sent) }, 202, sendingLimitHeaders(outcome.queued.allowance))
  })
