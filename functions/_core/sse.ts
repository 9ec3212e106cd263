// The one Server-Sent Events writer: named events with JSON data and increasing `id:`s, a `: ping` comment
// every 15 s so proxies keep the connection open, and a signal that aborts when the client goes away or the
// request's credential stops admitting it (revoked, expired, its scope taken away: watchCredential), in which
// case the stream ends with an `error` event saying why. An error event carries what an error response's body
// would: `{ error: { code, message } }`.
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'
import { watchCredential } from './auth.ts'
import type { ApiError } from './errors.ts'
import type { ApiEnv } from './server.ts'

export interface EventSink {
  /** `id`: the event's own id, for a stream a client resumes with Last-Event-ID (default: 1, 2, 3 …). */
  send(event: string, data: unknown, id?: string): Promise<void>
  /** Aborted when the client disconnects or the credential no longer admits the stream. */
  signal: AbortSignal
}

export function eventStream(c: Context<ApiEnv>, produce: (sink: EventSink) => Promise<void>, pingMs = 15_000): Response {
  // Tell buffering proxies (nginx and the like) to pass each event on as it comes.
  c.header('X-Accel-Buffering', 'no')
  return streamSSE(c, async (stream) => {
    const gone = new AbortController()
    stream.onAbort(() => gone.abort())
    let refused: ApiError | undefined
    const stopWatching = watchCredential(c, (reason) => {
      refused = reason
      gone.abort()
    })
    let id = 0
    const ping = setInterval(() => void stream.write(': ping\n\n').catch(() => gone.abort()), pingMs)
    try {
      await produce({
        signal: gone.signal,
        send: async (event, data, own) => {
          if (gone.signal.aborted) return
          ++id
          await stream.writeSSE({ event, data: JSON.stringify(data), id: own ?? String(id) }).catch(() => gone.abort())
        },
      })
      if (refused) {
        await stream.writeSSE({ event: 'error', data: JSON.stringify(refused.toJSON()) }).catch(() => {})
      }
    } finally {
      clearInterval(ping)
      stopWatching()
    }
  })
}
