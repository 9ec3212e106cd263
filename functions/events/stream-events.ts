// GET /events/stream: the organisation's events, live, as Server-Sent Events.
import { z } from '@hono/zod-openapi'
import { watchCredential } from '../_core/auth.ts'
import { defineRoute } from '../_core/route.ts'
import type { Api } from '../_core/server.ts'
import { subscribe } from './hub.ts'
import { parsePosition } from './position.ts'
import { filterOf, LastEventIdHeader, StreamQuery } from './schemas.ts'
import type { StreamEnd, Subscription } from './subscription.ts'

const example = [
  'event: message.received\nid: 7612-418\ndata: {"id":"…","type":"message.received","created_at":"…","org_id":"…","data":{"inbox_id":"…",…}}',
  'event: dataset.row.created\nid: 7615-419\ndata: {"id":"…","type":"dataset.row.created",…}',
  'event: error\ndata: {"error":{"code":"slow_consumer","message":"…"}}',
].join('\n\n')

export const streamEventsRoute = defineRoute({
  method: 'get',
  path: '/events/stream',
  scope: 'webhooks:read',
  tags: ['Events'],
  summary: 'Watch events live',
  description:
    'Server-Sent Events: every event the credential may see (an agent key, its agent’s only), as webhooks deliver ' +
    'them (`{ id, type, created_at, org_id, data }`), from the moment of connecting, each once and in order, within ' +
    'about 100 ms of its commit through any API process. No public URL is needed. Each event’s SSE `id` is its ' +
    'place in the stream: reconnect with `Last-Event-ID` to get exactly what came after (within two minutes of the ' +
    'organisation’s last stream closing, events are still raised for it). A client that falls too far behind gets ' +
    'a final `error` event (`slow_consumer`) and the stream ends; it resumes with Last-Event-ID. A credential ' +
    'revoked or expired, or losing the scope, mid-stream ends it within STREAM_RECHECK_MS (5 s) with an `error` ' +
    'event (`unauthorized` or `insufficient_scope`). A `: ping` comment ' +
    'every 15 s. At most EVENT_STREAMS_PER_ORG streams (default 100) per organisation and API process.',
  request: { query: StreamQuery, headers: LastEventIdHeader },
  errors: { 429: 'The organisation has its most event streams open, or its rate limit is exhausted; see `Retry-After`' },
  responses: {
    200: { description: 'The events', content: { 'text/event-stream': { schema: z.string().openapi({ example }) } } },
  },
})

const pingMs = 15_000
const encoder = new TextEncoder()
const ping = encoder.encode(': ping\n\n')

/**
 * The stream as a pull source: an event is taken from the subscription only when the connection has taken
 * the last, so a client that stops reading leaves its events in its bounded backlog, not in the server's
 * buffers, and is ended there as a slow consumer.
 */
function sseBody(subscription: Subscription, closeAfterSeconds: number | undefined, stopWatching: () => void): ReadableStream<Uint8Array> {
  let pinging: ReturnType<typeof setInterval> | undefined
  let timeUp: ReturnType<typeof setTimeout> | undefined
  const stop = () => {
    clearInterval(pinging)
    clearTimeout(timeUp)
    stopWatching()
    subscription.close()
  }
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A ping only into an empty queue: one that is not being read gains nothing.
        pinging = setInterval(() => {
          if ((controller.desiredSize ?? 0) >= 0) controller.enqueue(ping)
        }, pingMs)
        if (closeAfterSeconds) timeUp = setTimeout(() => subscription.close(), closeAfterSeconds * 1000)
      },
      async pull(controller) {
        const batch = await subscription.take()
        for (const event of batch) controller.enqueue(event.frame)
        const ended = subscription.ended
        if (batch.length || !ended) return
        stop()
        if (ended.code !== 'closed') {
          const error = JSON.stringify({ error: { code: ended.code, message: ended.message } })
          controller.enqueue(encoder.encode(`event: error\ndata: ${error}\n\n`))
        }
        controller.close()
      },
      cancel: stop,
    },
    { highWaterMark: 0 },
  )
}

export const registerStreamEvents = (api: Api) =>
  api.openapi(streamEventsRoute, async (c) => {
    const query = c.req.valid('query')
    const lastEventId = c.req.valid('header')['last-event-id']
    const subscription = await subscribe(c.get('principal').claims, filterOf(query), lastEventId ? parsePosition(lastEventId) : null)
    // A credential revoked or expired mid-stream ends it with a final error event.
    const stopWatching = watchCredential(c, (reason) =>
      subscription.end({ code: reason.code as StreamEnd['code'], message: reason.message }),
    )
    return c.body(sseBody(subscription, query.close_after, stopWatching), 200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // Tell buffering proxies (nginx and the like) to pass each event on as it comes.
      'x-accel-buffering': 'no',
    }) as never
  })
