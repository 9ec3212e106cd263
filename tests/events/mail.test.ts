// message.received on the live stream for mail that came in over real SMTP: the event the issue asks for.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startInboundRig, sendMail, type InboundRig } from '../email/inbound/smtp.ts'
import { seedInbox } from '../email/mail.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant } from '../harness/tenants.ts'
import { closeClients, openSocket, openSse } from './clients.ts'

let api: TestApi
let rig: InboundRig
beforeAll(async () => {
  api = await startApi()
  rig = await startInboundRig()
})
afterEach(closeClients)
afterAll(async () => {
  await rig?.close()
  await api?.close()
})

describe('message.received on the event stream', () => {
  it('reaches an SSE client and a WebSocket client of the inbox’s agent when mail arrives over SMTP', async () => {
    const t = await createTenant()
    const inbox = await seedInbox(t, { agent: 'agent' })
    const key = await t.key({ agent: 'agent' })
    const sse = await openSse(`${api.base}/events/stream?types=message.received&inbox_id=${inbox.id}`, key)
    const ws = await openSocket(`${api.base}/events/ws`, key)
    ws.send({ type: 'subscribe', types: ['message.received'], inbox_id: inbox.id })
    await ws.waitFor((f) => f.some((frame) => frame.type === 'subscribed'))
    // The other agent's key hears nothing of this inbox.
    const other = await openSse(`${api.base}/events/stream?types=message.received`, await t.key({ agent: 'otherAgent' }))

    await sendMail(rig, { from: 'ada@example.test', to: inbox.address, subject: 'Invoice 42', text: 'Please find it attached.' })

    const [event] = await sse.waitFor(1, 15_000)
    expect(event.event).toBe('message.received')
    expect(event.data).toMatchObject({ type: 'message.received', org_id: t.org.id, data: { inbox_id: inbox.id } })
    expect(event.data.data.message_id).toMatch(/^[0-9a-f-]{36}$/)
    const frames = await ws.waitFor((f) => f.some((frame) => frame.type === 'event'), 15_000)
    expect(frames.find((f) => f.type === 'event')).toEqual({ type: 'event', id: event.id, event: event.data })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(other.events).toEqual([])
  }, 30_000)
})
