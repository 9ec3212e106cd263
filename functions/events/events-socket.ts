// GET /events/ws: the same subscription as /events/stream, over a WebSocket. The client sends
// `{"type":"subscribe","types":[…],"inbox_id":"…","last_event_id":"…"}` (every field optional; a new
// subscribe replaces the last) and `{"type":"unsubscribe"}`; the server sends `subscribed`, `unsubscribed`,
// `event` frames (`{"type":"event","id":"<tx>-<seq>","event":{ id, type, created_at, org_id, data }}`) and
// `error` frames for a frame it cannot take. A slow consumer is closed with 1013 and may subscribe again
// with the last id it received; a credential that stops admitting the connection closes it with 1008.
import type { Context } from 'hono'
import type { WSContext, WSMessageReceive } from 'hono/ws'
import { watchCredential } from '../_core/auth.ts'
import type { TenantClaims } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import type { Api, ApiEnv } from '../_core/server.ts'
import { backlogBytes, slowConsumerMs, subscribe } from './hub.ts'
import { parsePosition } from './position.ts'
import { SubscribeFrame, UnsubscribeFrame } from './schemas.ts'
import { webSocketUpgrade } from './socket-upgrade.ts'
import { slowConsumerMessage, type Subscription } from './subscription.ts'

export const eventsSocketRoute = defineRoute({
  method: 'get',
  path: '/events/ws',
  scope: 'webhooks:read',
  tags: ['Events'],
  summary: 'Watch events live over a WebSocket',
  description:
    'The subscription of GET /events/stream over a WebSocket, with the same events, order, resumption and limits. ' +
    'Send `{"type":"subscribe","types":["message.received"],"inbox_id":"…","last_event_id":"…"}` (every field ' +
    'optional; a new subscribe replaces the last) and `{"type":"unsubscribe"}`. The server answers `subscribed` and ' +
    '`unsubscribed`, sends each event as `{"type":"event","id":"<tx>-<seq>","event":{ id, type, created_at, org_id, ' +
    'data }}` and a frame it cannot take with `{"type":"error","error":{ code, message }}`. A client that falls too ' +
    'far behind is closed with 1013 and resumes by subscribing with the last id it received; 1001 when the server ' +
    'shuts down; 1008, after an `error` frame (`unauthorized` or `insufficient_scope`), when the credential is ' +
    'revoked, expires or loses the scope while connected (checked every STREAM_RECHECK_MS, 5 s).',
  errors: {
    426: 'The request is not a WebSocket upgrade',
    503: 'This runtime serves no WebSockets',
  },
  responses: { 101: { description: 'Switched to the WebSocket protocol' } },
})

type Frame = { type: 'subscribed'; types: string[] | null; inbox_id: string | null } | { type: 'unsubscribed' } | ErrorFrame
type ErrorFrame = { type: 'error'; error: { code: string; message: string } }

// A close reason has at most 123 bytes.
const slowConsumerReason = 'slow consumer: subscribe again with the last event id received'

const errorFrame = (code: string, message: string): ErrorFrame => ({ type: 'error', error: { code, message } })

/** What the socket holds unsent; Node's `ws` and Deno's WebSocket both say. */
function unsent(ws: WSContext): number {
  return (ws.raw as { bufferedAmount?: number } | undefined)?.bufferedAmount ?? 0
}

function connection(c: Context<ApiEnv>, claims: TenantClaims) {
  let current: Subscription | undefined
  let stopWatching: (() => void) | undefined
  const send = (ws: WSContext, frame: Frame) => ws.send(JSON.stringify(frame))

  const pump = async (ws: WSContext, subscription: Subscription) => {
    const limit = backlogBytes()
    for (;;) {
      const batch = await subscription.take()
      if (current !== subscription) return
      for (const event of batch) {
        ws.send(`{"type":"event","id":"${event.id}","event":${event.body}}`)
        // The socket holds what the client has not read yet: past the backlog, wait for it to read, and end
        // it as a slow consumer if it does not catch up in time.
        const since = Date.now()
        while (unsent(ws) > limit && current === subscription) {
          if (Date.now() - since >= slowConsumerMs()) {
            subscription.end({ code: 'slow_consumer', message: slowConsumerMessage })
            return ws.close(1013, slowConsumerReason)
          }
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      }
      const ended = subscription.ended
      if (!batch.length && ended) {
        if (ended.code === 'slow_consumer') ws.close(1013, slowConsumerReason)
        if (ended.code === 'shutting_down') ws.close(1001, 'server shutting down: subscribe again with the last event id received')
        return
      }
    }
  }

  const stop = () => {
    current?.close()
    current = undefined
  }

  const onFrame = async (data: WSMessageReceive, ws: WSContext) => {
    let frame: unknown
    try {
      frame = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer))
    } catch {
      return send(ws, errorFrame('bad_request', 'Frames are JSON: {"type":"subscribe",…} or {"type":"unsubscribe"}.'))
    }
    if (UnsubscribeFrame.safeParse(frame).success) {
      stop()
      return send(ws, { type: 'unsubscribed' })
    }
    const parsed = SubscribeFrame.safeParse(frame)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
      return send(
        ws,
        errorFrame('validation_failed', `${where}${issue?.message ?? 'Send {"type":"subscribe",…} or {"type":"unsubscribe"}.'}`),
      )
    }
    stop()
    const { types, inbox_id: inboxId, last_event_id: lastEventId } = parsed.data
    const filter = { types: !types || types.includes('*') ? null : [...new Set(types)], inboxId: inboxId ?? null }
    let subscription: Subscription
    try {
      subscription = await subscribe(claims, filter, lastEventId ? parsePosition(lastEventId) : null)
    } catch (error) {
      if (error instanceof ApiError) return send(ws, errorFrame(error.code, error.message))
      console.error('event socket subscribe failed:', error instanceof Error ? error.message : error)
      return send(ws, errorFrame('internal', 'The subscription could not be opened; try again.'))
    }
    // Closed while subscribing: nothing to keep.
    if (ws.readyState !== 1) return subscription.close()
    current = subscription
    send(ws, { type: 'subscribed', types: filter.types, inbox_id: filter.inboxId })
    void pump(ws, subscription)
  }

  // Frames are taken one at a time, in order: a subscribe finishes before the next frame is read.
  let chain = Promise.resolve()
  return {
    // A credential revoked or expired, or losing the scope, while connected closes the socket (1008) after an
    // error frame saying why.
    onOpen: (_event: Event, ws: WSContext) => {
      stopWatching = watchCredential(c, (reason) => {
        chain = chain.then(() => {
          stop()
          send(ws, errorFrame(reason.code, reason.message))
          ws.close(1008, 'the credential no longer admits this connection')
        })
      })
    },
    onMessage: (event: MessageEvent<WSMessageReceive>, ws: WSContext) => {
      chain = chain.then(() => onFrame(event.data, ws)).catch(() => {})
    },
    onClose: () => {
      stopWatching?.()
      chain = chain.then(stop)
    },
    onError: () => {
      stopWatching?.()
      chain = chain.then(stop)
    },
  }
}

export const registerEventsSocket = (api: Api) =>
  api.openapi(eventsSocketRoute, async (c) => {
    const upgrade = webSocketUpgrade()
    if (!upgrade)
      throw new ApiError('service_unavailable', 'This server does not serve WebSockets; GET /events/stream has the same events.')
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError(
        'upgrade_required',
        'Connect with a WebSocket (Upgrade: websocket); GET /events/stream serves the same events as Server-Sent Events.',
        undefined,
        { Upgrade: 'websocket' },
      )
    }
    return (await upgrade(c, connection(c, c.get('principal').claims))) as never
  })
