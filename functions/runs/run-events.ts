// A run's events as Server-Sent Events. Each is numbered by a trigger in the transaction that changes the
// run or a step, and read back from that run or step, so the stream shows what committed, in order, and each
// event's id is that number: a client that reconnects with Last-Event-ID gets what came after.
import { z } from '@hono/zod-openapi'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { eventStream } from '../_core/sse.ts'
import type { Api } from '../_core/server.ts'
import { eventsAfter } from './queries.ts'
import { finishedStatuses, RunParams } from './schemas.ts'

const example = [
  'event: run.queued\ndata: {"id":"…","status":"queued",…}\nid: 41',
  'event: run.in_progress\ndata: {"id":"…","status":"in_progress",…}\nid: 42',
  'event: run.step.in_progress\ndata: {"seq":1,"kind":"model_call","status":"in_progress",…}\nid: 43',
  'event: run.step.completed\ndata: {"seq":1,"output":"…","usage":{"prompt_tokens":11,"completion_tokens":7,"cost_usd":0.0000058},…}\nid: 44',
  'event: run.completed\ndata: {"id":"…","status":"completed","output":"…",…}\nid: 45',
].join('\n\n')

export const runEventsRoute = defineRoute({
  method: 'get',
  path: '/runs/{id}/events',
  scope: 'runs:read',
  tags: ['Runs'],
  summary: "Watch a run's events",
  description:
    'Server-Sent Events: one `run.<status>` event per status change (the run as GET /runs/{id} shows it, without ' +
    'steps) and one `run.step.<status>` per step opened and closed, from the run being queued, in order; the stream ' +
    'ends after the run finishes. Each event’s `id` is its number: reconnect with `Last-Event-ID` to get only what ' +
    'came after it. A `: ping` comment every 15 s. A credential revoked or expired, or losing the scope, mid-stream ' +
    'ends it within STREAM_RECHECK_MS (5 s) with an `error` event (`{ error: { code, message } }`, the body of an error response).',
  request: {
    params: RunParams,
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^\d{1,18}$/, { message: 'Last-Event-ID must be the id of an event this stream sent.' })
        .optional()
        .openapi({ description: 'The id of the last event received: the stream resumes after it.' }),
    }),
  },
  responses: {
    200: { description: "The run's events", content: { 'text/event-stream': { schema: z.string().openapi({ example }) } } },
  },
})

const firstPollMs = 100
const slowestPollMs = 1000

export const registerRunEvents = (api: Api) =>
  api.openapi(runEventsRoute, async (c) => {
    const runId = c.req.valid('param').id
    const resumeAfter = Number(c.req.valid('header')['last-event-id'] ?? 0)
    const tenant = tenantOf(c)
    const [found] = await withTenant(tenant, (tx) => tx<{ id: string }[]>`select id from agentry.runs where id = ${runId}`)
    if (!found) throw notFound('Run')
    if (!Number.isSafeInteger(resumeAfter)) throw new ApiError('bad_request', 'Last-Event-ID must be the id of an event this stream sent.')
    return eventStream(c, async (sink) => {
      let after = resumeAfter
      let wait = firstPollMs
      while (!sink.signal.aborted) {
        const { finished, events } = await withTenant(tenant, async (tx) => {
          // Status first: events committed with a final status are then certain to be read below.
          const [run] = await tx<{ status: string }[]>`select status from agentry.runs where id = ${runId}`
          return { finished: !run || finishedStatuses.includes(run.status), events: await eventsAfter(tx, runId, after) }
        })
        for (const event of events) {
          await sink.send(event.type, event.data, event.id)
          after = Number(event.id)
        }
        if (finished && events.length < 500) return
        wait = events.length ? firstPollMs : Math.min(wait * 2, slowestPollMs)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait)
          sink.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer)
              resolve()
            },
            { once: true },
          )
        })
      }
    })
  })
