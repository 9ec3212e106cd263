// Real clients of the event stream for the tests: Server-Sent Events read off fetch, and the `ws` package's
// WebSocket.
import WebSocket from 'ws'

export interface ReceivedEvent {
  /** The SSE `event:` (the event type, or `error`). */
  event: string
  /** The SSE `id:` (`<tx>-<seq>`), absent on `error`. */
  id?: string
  data: any
}

export interface SseClient {
  status: number
  events: ReceivedEvent[]
  /** Resolves once `count` events have come (or the stream ends), failing after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

const open = new Set<{ close(): void }>()

/** Closes every client a test left open, so that the server under test can stop. */
export function closeClients(): void {
  for (const client of open) client.close()
  open.clear()
}

export async function openSse(url: string, key: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const stop = new AbortController()
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream', ...headers },
    signal: stop.signal,
  })
  const events: ReceivedEvent[] = []
  const listeners = new Set<() => void>()
  let done = false
  const ended = (async () => {
    if (!res.body || res.status !== 200) return
    const decoder = new TextDecoder()
    let buffered = ''
    try {
      const reader = res.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffered += decoder.decode(value, { stream: true })
        let end = buffered.indexOf('\n\n')
        while (end >= 0) {
          const block = buffered.slice(0, end)
          buffered = buffered.slice(end + 2)
          end = buffered.indexOf('\n\n')
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => !line.startsWith(':') && line.includes(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).replace(/^ /, '')]),
          )
          if (fields.data === undefined) continue
          events.push({ event: fields.event ?? 'message', id: fields.id, data: JSON.parse(fields.data) })
          for (const listener of listeners) listener()
        }
      }
    } catch {
      // aborted by close()
    } finally {
      done = true
      for (const listener of listeners) listener()
    }
  })()
  const waitFor = (count: number, timeoutMs = 10_000) =>
    new Promise<ReceivedEvent[]>((resolve, reject) => {
      const check = () => {
        if (events.length >= count || done) {
          listeners.delete(check)
          clearTimeout(timer)
          resolve(events.slice())
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`expected ${count} events within ${timeoutMs} ms, got ${events.length}: ${JSON.stringify(events)}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })
  const client = { status: res.status, events, waitFor, ended, close: () => stop.abort() }
  open.add(client)
  return client
}

export interface SocketClient {
  socket: WebSocket
  frames: any[]
  send(frame: unknown): void
  waitFor(predicate: (frames: any[]) => boolean, timeoutMs?: number): Promise<any[]>
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

export async function openSocket(url: string, key: string): Promise<SocketClient> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers: { authorization: `Bearer ${key}` } })
  const frames: any[] = []
  const listeners = new Set<() => void>()
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()))
    for (const listener of listeners) listener()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() })
      for (const listener of listeners) listener()
    }),
  )
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)))
  })
  const waitFor = (predicate: (frames: any[]) => boolean, timeoutMs = 10_000) =>
    new Promise<any[]>((resolve, reject) => {
      const check = () => {
        if (predicate(frames)) {
          listeners.delete(check)
          clearTimeout(timer)
          resolve(frames.slice())
        }
      }
      const timer = setTimeout(() => {
        listeners.delete(check)
        reject(new Error(`frames did not arrive within ${timeoutMs} ms: ${JSON.stringify(frames)}`))
      }, timeoutMs)
      listeners.add(check)
      check()
    })
  const client = {
    socket,
    frames,
    send: (frame: unknown) => socket.send(JSON.stringify(frame)),
    waitFor,
    closed,
    close: () => socket.terminate(),
  }
  open.add(client)
  return client
}
