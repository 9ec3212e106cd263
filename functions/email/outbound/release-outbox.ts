import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { enqueueJob } from '../../_core/jobs/queue.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { sendMessageKind } from './delivery-kind.ts'
import { countOutboxed, requeueOutboxed } from './outbox-queries.ts'

/** Messages released by one call at most: a large outbox is released over several calls, each one a short transaction. */
const maxReleased = 1000

const ReleaseOutboxBody = z
  .strictObject({
    message_ids: z
      .array(z.uuid())
      .min(1)
      .max(maxReleased)
      .optional()
      .openapi({ description: `Only these outboxed messages (at most ${maxReleased}); all of them when left out.` }),
  })
  .openapi('ReleaseOutbox')

const ReleasedOutbox = z
  .object({
    queued: z.number().int().openapi({ description: 'How many messages were queued to be sent again.' }),
    message_ids: z.array(z.uuid()).openapi({ description: 'The messages queued.' }),
    remaining: z.number().int().openapi({ description: 'Messages still in the outbox for this credential.' }),
  })
  .openapi('ReleasedOutbox')

export const releaseOutboxRoute = defineRoute({
  method: 'post',
  path: '/outbox/release',
  scope: 'messages:write',
  tags: ['Messages'],
  summary: 'Send the outbox again',
  description:
    'Queues outboxed messages to be delivered again, oldest first: those in `message_ids`, or every one (up to ' +
    `${maxReleased} a call; \`remaining\` says how many are left). Use it once an SMTP relay (\`SMTP_URL\`) is ` +
    'configured: the delivery job relays them; with still no relay they return to the outbox. Ids that name no ' +
    "outboxed message of yours are left out of `message_ids`. An agent key releases its own inboxes' messages.",
  request: { body: { required: false, content: { 'application/json': { schema: ReleaseOutboxBody } } } },
  responses: {
    202: { description: 'The messages are queued', content: { 'application/json': { schema: dataOf(ReleasedOutbox) } } },
  },
})

export const registerReleaseOutbox = (api: Api) =>
  api.openapi(releaseOutboxRoute, async (c) => {
    const wanted = c.req.valid('json')?.message_ids
    const released = await withTenant(tenantOf(c), async (tx) => {
      const rows = await requeueOutboxed(tx, { limit: maxReleased, messageIds: wanted ? [...new Set(wanted)] : undefined })
      for (const row of rows) await enqueueJob(tx, sendMessageKind, { message_id: row.id })
      return { ids: rows.map((r) => r.id), remaining: await countOutboxed(tx) }
    })
    return c.json({ data: { queued: released.ids.length, message_ids: released.ids, remaining: released.remaining } }, 202)
  })
