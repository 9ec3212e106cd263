import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { eventTypes } from './event-types.ts'

const EventType = z
  .object({
    type: z.string(),
    description: z.string(),
    schema: z.record(z.string(), z.unknown()).openapi({ description: "The JSON Schema of the event's `data`." }),
  })
  .openapi('WebhookEventType')

export const listEventTypesRoute = defineRoute({
  method: 'get',
  path: '/webhooks/event-types',
  scope: 'webhooks:read',
  tags: ['Webhooks'],
  summary: 'List event types',
  description:
    "Every event an endpoint can subscribe to, with the JSON Schema of its `data`. Each delivery's body is `{ id, " +
    'type, created_at, org_id, data }`.',
  responses: { 200: { description: 'The event types', content: { 'application/json': { schema: dataOf(z.array(EventType)) } } } },
})

export const registerListEventTypes = (api: Api) =>
  api.openapi(listEventTypesRoute, (c) => c.json({ data: eventTypes as unknown as z.infer<typeof EventType>[] }, 200))
