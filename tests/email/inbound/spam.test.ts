// The spam verdict on mail arriving over real SMTP, with the DNS records each sender's domain publishes
// served by the rig's own DNS server.
import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, makeInbox, sendMail, signingDomain, startInboundRig } from './smtp.ts'

let rig: InboundRig
let api: TestApi
let t: Tenant

beforeAll(async () => {
  rig = await startInboundRig()
  api = await startApi()
  t = await createTenant()
})
afterAll(async () => {
  await api?.close()
  await rig?.close()
})

interface Stored {
  spam: { score: number; verdict: string; reasons: { signal: string; weight: number; detail: string }[] }
  labels: string[]
  tags: string[]
}

async function storedIn(inboxId: string): Promise<Stored> {
  const [row] = await serviceSql()<Stored[]>`
    select m.spam, m.labels, t.tags from agentry.email_messages m join agentry.email_threads t on t.id = m.thread_id
    where m.inbox_id = ${inboxId}`
  return row
}

const signalsOf = (s: Stored) => s.spam.reasons.map((r) => [r.signal, r.weight])

describe('the spam verdict', () => {
  it('is clean, with no reasons, for mail that passes SPF, DKIM and DMARC', async () => {
    const inbox = await makeInbox(t)
    const signer = signingDomain(rig, 'clean.example.test', { spf: 'v=spf1 ip4:127.0.0.1 -all', dmarc: 'v=DMARC1; p=reject' })
    await sendMail(rig, { from: 'Ann <ann@clean.example.test>', to: inbox.address, subject: 'Minutes', text: 'Attached.' }, signer)
    const m = await storedIn(inbox.id)
    expect(m.spam).toEqual({ score: 0, verdict: 'clean', reasons: [] })
    expect(m.labels).toEqual([])
  })

  it('is spam for a forged sender failing DMARC, SPF and DKIM, and the message and its thread get the spam label', async () => {
    const inbox = await makeInbox(t)
    const signer = signingDomain(rig, 'bank.example.test', { spf: 'v=spf1 ip4:192.0.2.1 -all', dmarc: 'v=DMARC1; p=reject' })
    const impostor = {
      ...signer,
      privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    }
    await sendMail(rig, { from: 'security@bank.example.test', to: inbox.address, subject: 'Verify your account', text: 'Click' }, impostor)
    const m = await storedIn(inbox.id)
    expect(signalsOf(m)).toEqual([
      ['dmarc_fail', 4],
      ['spf_fail', 2],
      ['dkim_fail', 2],
      ['unauthenticated', 1],
    ])
    expect(m.spam).toMatchObject({ score: 9, verdict: 'spam' })
    expect(m.labels).toEqual(['spam'])
    expect(m.tags).toEqual(['spam'])
    const listed = await api.call('GET', `/messages?inbox_id=${inbox.id}`, { key: await t.key({ scopes: ['messages:read'] }) })
    expect(listed.body.data[0].metadata).toMatchObject({ spam: m.spam, labels: ['spam'] })
  })

  it('is spam for an executable attachment from an authenticated sender', async () => {
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
    const m = await storedIn(inbox.id)
    expect(m.spam.reasons).toEqual([{ signal: 'executable_attachment', weight: 5, detail: 'Executable attachment: invoice.pdf.exe' }])
    expect(m.spam).toMatchObject({ score: 5, verdict: 'spam' })
    expect(m.labels).toEqual(['spam'])
  })

  it('counts a display name naming our domain from an address elsewhere, and an auto-submitted header', async () => {
    const inbox = await makeInbox(t)
    await sendMail(rig, {
      from: '"support@agents.localhost" <helpdesk@lookalike.example.test>',
      to: inbox.address,
      subject: 'Your inbox is full',
      text: 'Log in',
      headers: { 'Auto-Submitted': 'auto-generated' },
    })
    const m = await storedIn(inbox.id)
    expect(signalsOf(m)).toEqual([
      ['unauthenticated', 1],
      ['auto_submitted', 1],
      ['display_name_spoof', 3],
    ])
    expect(m.spam).toMatchObject({ score: 5, verdict: 'spam' })
  })
})

describe("an inbox's spam threshold", () => {
  it('decides the verdict and the label: the same message is clean above its score and spam at it', async () => {
    const lenient = await makeInbox(t)
    const strict = await makeInbox(t)
    await serviceSql()`update agentry.email_inboxes set spam_threshold = 10 where id = ${lenient.id}`
    await serviceSql()`update agentry.email_inboxes set spam_threshold = 1 where id = ${strict.id}`
    // Unauthenticated (1) and auto-submitted (1): score 2.
    await sendMail(rig, {
      from: 'robot@newsletter.example.test',
      to: [lenient.address, strict.address],
      subject: 'Weekly digest',
      text: 'News',
      headers: { Precedence: 'bulk' },
    })
    const [atLenient, atStrict] = [await storedIn(lenient.id), await storedIn(strict.id)]
    expect(atLenient.spam).toMatchObject({ score: 2, verdict: 'clean' })
    expect(atLenient.labels).toEqual([])
    expect(atStrict.spam).toMatchObject({ score: 2, verdict: 'spam' })
    expect(atStrict.labels).toEqual(['spam'])
    expect(atStrict.tags).toEqual(['spam'])
  })
})
