import type { Api } from '../../_core/server.ts'
import { z } from '@hono/zod-openapi'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { ApiError, notFound } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf, idParams } from '../../_core/schemas.ts'
import { cancelScheduled } from './send-queries.ts'

export const cancelScheduleRoute = defineRoute({
  method: 'delete',
  path: '/messages/{id}/schedule',
  scope: 'messages:write',
  tags: ['Messages'],
  summary: 'Cancel a scheduled send',
  description:
    'A message sent with `send_at` waits as `scheduled`; this cancels it before its time: it becomes `cancelled` and is never ' +
    'sent. A message that is not (or no longer) scheduled answers 409 with its status.',
  request: { params: idParams('Message') },
  errors: { 409: 'The message is not scheduled: it has been sent, or cancelled already' },
  responses: {
    200: {
      description: 'The message is cancelled',
      content: { 'application/json': { schema: dataOf(z.object({ message_id: z.uuid(), status: z.literal('cancelled') })) } },
    },
  },
})

export const registerCancelSchedule = (api: Api) =>
  api.openapi(cancelScheduleRoute, async (c) => {
    const { id } = c.req.valid('param')
    const row = await withTenant(tenantOf(c), (tx) => cancelScheduled(tx, id))
    if (!row) throw notFound('Message')
    if (!row.cancelled) throw new ApiError('conflict', `The message is not scheduled: its status is ${row.status}.`)
    return c.json({ data: { message_id: row.id, status: 'cancelled' as const } }, 200)
  })
