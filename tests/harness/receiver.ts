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
  body?: string
  delayMs?: number
}

export interface Receiver {
  url: string
  received: Received[]
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
            res.end(answer.body ?? '')
          }
          if (answer.delayMs) setTimeout(send, answer.delayMs)
          else send()
        })
      })
      server.listen(at, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port
        receiver.url = `http://127.0.0.1:${port}${path}`
        resolve()
      })
    })
  await listen(0)
  return receiver
}
