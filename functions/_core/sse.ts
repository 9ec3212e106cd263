// The one Server-Sent Events writer: named events with JSON data and increasing `id:`s, a `: ping` comment
// every 15 s so proxies keep the connection open, and a signal that aborts when the client goes away.
import type { Context } from 'hono'
import { streamSSE } from 'hono/streaming'

export interface EventSink {
  send(event: string, data: unknown): Promise<void>
  /** Aborted when the client disconnects. */
  signal: AbortSignal
}

export function eventStream(c: Context, produce: (sink: EventSink) => Promise<void>, pingMs = 15_000): Response {
  // Tell buffering proxies (nginx and the like) to pass each event on as it comes.
  c.header('X-Accel-Buffering', 'no')
  return streamSSE(c, async (stream) => {
    const gone = new AbortController()
    stream.onAbort(() => gone.abort())
    let id = 0
    const ping = setInterval(() => void stream.write(': ping\n\n').catch(() => gone.abort()), pingMs)
    try {
      await produce({
        signal: gone.signal,
        send: async (event, data) => {
          if (gone.signal.aborted) return
          await stream.writeSSE({ event, data: JSON.stringify(data), id: String(++id) }).catch(() => gone.abort())
        },
      })
    } finally {
      clearInterval(ping)
    }
  })
}
