import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutboundError } from '../../functions/_core/outbound.ts'
import { nodeTransport } from '../../scripts/lib/node-transport.ts'
import { startReceiver, type Receiver } from '../harness/receiver.ts'

let receiver: Receiver
beforeAll(async () => {
  receiver = await startReceiver()
})
afterAll(() => receiver.close())

const post = (url: string, allowPrivate: boolean) =>
  nodeTransport({ allowPrivate })({ url, headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 2000 })

describe('the Node transport', () => {
  it('refuses a private address given outright, and a name that resolves to one, before connecting', async () => {
    const port = new URL(receiver.url).port
    const carryingLoopback = [
      `http://[::ffff:127.0.0.1]:${port}/hooks`,
      `http://[::ffff:0:7f00:1]:${port}/hooks`,
      `http://[2002:7f00:1::]:${port}/hooks`,
    ]
    for (const url of [receiver.url, `http://localhost:${port}/hooks`, `http://[::1]:${port}/hooks`, ...carryingLoopback]) {
      const error = await post(url, false).then(
        () => null,
        (e: unknown) => e,
      )
      expect(error, url).toBeInstanceOf(OutboundError)
      expect((error as OutboundError).kind, url).toBe('blocked')
    }
    expect(receiver.received).toHaveLength(0)
  })

  it('reaches the same receiver when private networks are allowed', async () => {
    const res = await post(`http://localhost:${new URL(receiver.url).port}/hooks`, true)
    expect(res.status).toBe(200)
    expect(res.body).toBe('ok')
    expect(receiver.received).toHaveLength(1)
  })

  it('reports a refused connection and a scheme it does not speak as errors of their own', async () => {
    const refused = await post('http://127.0.0.1:9/hooks', true).then(
      () => null,
      (e: unknown) => e,
    )
    expect(refused).toMatchObject({ kind: 'network' })
    const ftp = await post('ftp://example.com/x', true).then(
      () => null,
      (e: unknown) => e,
    )
    expect(ftp).toMatchObject({ kind: 'blocked' })
  })
})
