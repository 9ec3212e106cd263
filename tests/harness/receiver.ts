import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  headers: http.IncomingHttpHeaders
  body: string
  at: number
}

/** What the receiver answers: a status (and headers and body), after an optional delay. */
export interface Answer {
  status: number
  headers?: Record<string, string>
  /** Any bytes: a hostile receiver's answer need not be text. */
  body?: string | Uint8Array
  delayMs?: number
  /** Instead of a body, `chunk` every `everyMs` until the client hangs up: an answer that never ends. */
  drip?: { chunk: string; everyMs: number }
}

export interface Receiver {
  url: string
  received: Received[]
  /** Requests being answered now, and the most there have been at once. */
  inFlight: number
  maxInFlight: number
  /** Decides each answer; by default 200. */
  answer: (request: Received) => Answer
  /** Stops listening (connections are refused) or starts again on the same port. */
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
  /** Waits until `count` requests have arrived. */
  waitFor(count: number, timeoutMs?: number): Promise<void>
}

/** A real HTTP server on loopback that records every webhook POSTed to it. */
export async function startReceiver(path = '/hooks'): Promise<Receiver> {
  const received: Received[] = []
  const waiters: (() => void)[] = []
  let server: http.Server | undefined
  let port = 0
  const receiver: Receiver = {
    url: '',
    received,
    inFlight: 0,
    maxInFlight: 0,
    answer: () => ({ status: 200, body: 'ok' }),
    async down() {
      const s = server
      server = undefined
      if (!s) return
      s.closeAllConnections()
      await new Promise((resolve) => s.close(resolve))
    },
    async up() {
      await listen(port)
    },
    close: () => receiver.down(),
    waitFor(count, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received ${received.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs)
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer)
            resolve()
            return true
          }
          return false
        }
        if (!check()) waiters.push(() => void check())
      })
    },
  }
  const listen = (at: number) =>
    new Promise<void>((resolve) => {
      server = http.createServer((req, res) => {
        receiver.inFlight++
        receiver.maxInFlight = Math.max(receiver.maxInFlight, receiver.inFlight)
        res.on('close', () => receiver.inFlight--)
        res.on('error', () => {})
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          const request = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
          received.push(request)
          for (const w of waiters) w()
          const answer = receiver.answer(request)
          const send = () => {
            if (res.destroyed) return
            res.writeHead(answer.status, answer.headers)
            if (!answer.drip) return void res.end(answer.body ?? '')
            const { chunk, everyMs } = answer.drip
            const dripping = setInterval(() => (res.destroyed ? clearInterval(dripping) : res.write(chunk)), everyMs)
            res.on('close', () => clearInterval(dripping))
          }
          if (answer.delayMs) setTimeout(send, answer.delayMs)
          else send()
        })
      })
      // Idle connections stay open longer than a busy machine may leave one unused: a dispatcher reusing one
      // must not be reset and made to try again.
      server.keepAliveTimeout = 60_000
      server.listen(at, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port
        receiver.url = `http://127.0.0.1:${port}${path}`
        resolve()
      })
    })
  await listen(0)
  return receiver
}
