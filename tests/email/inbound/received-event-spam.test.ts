// message.received carries the spam verdict and labels the message was stored with, to a webhook endpoint
// and on the event stream, for mail that came in over real SMTP with a verdict known in advance.
import { generateKeyPairSync } from 'node:crypto'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../../functions/webhooks/event-types.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { createEndpoint, webhookSuite } from '../../harness/webhooks.ts'
import { closeClients, openSse } from '../../events/clients.ts'
import { type InboundRig, makeInbox, sendMail, signingDomain, startInboundRig } from './smtp.ts'

const suite = webhookSuite({ api: true })
let rig: InboundRig
let t: Tenant

beforeAll(async () => {
  rig = await startInboundRig()
  t = await createTenant()
  return () => rig?.close()
})
afterEach(closeClients)

const stored = async (inboxId: string) =>
  (
    await serviceSql()<{ id: string; spam: unknown; labels: string[] }[]>`
      select id::text, spam, labels from agentry.email_messages where inbox_id = ${inboxId}`
  )[0]

/** The payload's keys against the event type's published schema: every required one present, none unknown. */
function expectMatchesSchema(data: Record<string, unknown>) {
  const schema = eventTypes.find((e) => e.type === 'message.received')!.schema as {
    properties: Record<string, unknown>
    required: readonly string[]
  }
  expect(Object.keys(data).sort()).toEqual(Object.keys(schema.properties).sort())
  expect([...schema.required].sort()).toEqual(Object.keys(schema.properties).sort())
}

describe('message.received', () => {
  it('reaches a webhook endpoint with the spam verdict and the spam label of a message with an executable attachment', async () => {
    const receiver = await suite.receiver()
    const endpoint = await createEndpoint(t, { url: receiver.url, events: ['message.received'] })
    const inbox = await makeInbox(t)
    const signer = signingDomain(rig, 'vendor.example.test', { spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=none' })
    await sendMail(
      rig,
      {
        from: 'billing@vendor.example.test',
        to: inbox.address,
        subject: 'Invoice',
        text: 'See attached',
        attachments: [{ filename: 'invoice.pdf.exe', content: Buffer.from('MZ not really a program') }],
      },
      signer,
    )
    await suite.dispatchAllDue()
    await receiver.waitFor(1)
    const hook = JSON.parse(receiver.received[0].body)
    expect(hook.type).toBe('message.received')
    expect(hook.data.inbox_id).toBe(inbox.id)
    expect(hook.data.spam).toEqual({
      score: 5,
      verdict: 'spam',
      reasons: [{ signal: 'executable_attachment', weight: 5, detail: 'Executable attachment: invoice.pdf.exe' }],
    })
    expect(hook.data.labels).toEqual(['spam'])
    const message = await stored(inbox.id)
    expect(hook.data.message_id).toBe(message.id)
    expect(hook.data.spam).toEqual(message.spam)
    expect(hook.data.labels).toEqual(message.labels)
    expectMatchesSchema(hook.data)
    const delivered = await serviceSql()`select 1 from agentry.webhook_deliveries where endpoint_id = ${endpoint.id}`
    expect(delivered.length).toBe(1)
  }, 30_000)

  it('is on the event stream with the verdict of a forged sender failing DMARC, as the message listing shows it', async () => {
    const inbox = await makeInbox(t)
    const key = await t.key({ scopes: ['webhooks:read', 'messages:read'] })
    const sse = await openSse(`${suite.api.base}/events/stream?types=message.received&inbox_id=${inbox.id}`, key)
    const signer = signingDomain(rig, 'bank.example.test', { spf: 'v=spf1 ip4:192.0.2.1 -all', dmarc: 'v=DMARC1; p=reject' })
    const impostor = {
      ...signer,
      privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    }
    await sendMail(rig, { from: 'security@bank.example.test', to: inbox.address, subject: 'Verify your account', text: 'Click' }, impostor)

    const [event] = await sse.waitFor(1, 15_000)
    const data = event.data.data
    expect(data.spam.score).toBe(9)
    expect(data.spam.verdict).toBe('spam')
    expect(data.spam.reasons.map((r: { signal: string; weight: number }) => [r.signal, r.weight])).toEqual([
      ['dmarc_fail', 4],
      ['spf_fail', 2],
      ['dkim_fail', 2],
      ['unauthenticated', 1],
    ])
    expect(data.labels).toEqual(['spam'])
    const listed = await suite.api.call('GET', `/messages?inbox_id=${inbox.id}`, { key })
    expect(listed.status).toBe(200)
    const [shown] = listed.body.data
    expect(shown.message_id).toBe(data.message_id)
    expect(data.spam).toEqual(shown.metadata.spam)
    expect(data.labels).toEqual(shown.metadata.labels)
    expectMatchesSchema(data)
  }, 30_000)

  it('says clean with no reasons and no labels for authenticated mail', async () => {
    const inbox = await makeInbox(t)
    const key = await t.key({ scopes: ['webhooks:read'] })
    const sse = await openSse(`${suite.api.base}/events/stream?types=message.received&inbox_id=${inbox.id}`, key)
    const signer = signingDomain(rig, 'clean.example.test', { spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=reject' })
    await sendMail(rig, { from: 'Ann <ann@clean.example.test>', to: inbox.address, subject: 'Minutes', text: 'Attached.' }, signer)
    const [event] = await sse.waitFor(1, 15_000)
    expect(event.data.data.spam).toEqual({ score: 0, verdict: 'clean', reasons: [] })
    expect(event.data.data.labels).toEqual([])
  }, 30_000)
})
