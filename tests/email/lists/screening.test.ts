// Allow and block lists judged where mail arrives: over real SMTP to the ingress, with nodemailer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTenant, serviceSql, type Tenant } from '../../harness/tenants.ts'
import { type InboundRig, makeInbox, messagesOf, sendMail, startInboundRig } from '../inbound/smtp.ts'

let rig: InboundRig
let t: Tenant

beforeAll(async () => {
  rig = await startInboundRig()
  t = await createTenant()
})
afterAll(() => rig.close())

async function listed(inboxId: string | null, list: 'allow' | 'block', entry: string) {
  await serviceSql()`insert into agentry.email_sender_lists (org_id, inbox_id, list, entry) values (${t.org.id}, ${inboxId}, ${list}, ${entry})`
}

async function setting(inboxId: string, changes: { blocked_senders?: string; allow_list_only?: boolean }) {
  await serviceSql()`
    update agentry.email_inboxes set blocked_senders = coalesce(${changes.blocked_senders ?? null}, blocked_senders),
      allow_list_only = coalesce(${changes.allow_list_only ?? null}::boolean, allow_list_only)
    where id = ${inboxId}`
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { responseCode?: number; command?: string; response?: string }) => e,
  )

const stored = async (inboxId: string) =>
  (
    await serviceSql()<{ subject: string; labels: string[] }[]>`
    select subject, labels from agentry.email_messages where inbox_id = ${inboxId} order by created_at`
  ).map((m) => ({
    subject: m.subject,
    labels: m.labels,
  }))

describe('a blocked sender', () => {
  it('is refused with 550 at RCPT, before the body, when the inbox blocks its address; others still get in', async () => {
    const inbox = await makeInbox(t)
    await listed(inbox.id, 'block', 'pest@spam.example.test')
    const refused = await refusal(sendMail(rig, { from: 'pest@spam.example.test', to: inbox.address, subject: 'Buy', text: 'now' }))
    expect(refused?.responseCode).toBe(550)
    expect(refused?.command).toBe('RCPT TO')
    expect(refused?.response).toMatch(/5\.7\.1 .*block list/)
    await sendMail(rig, { from: 'friend@spam.example.test', to: inbox.address, subject: 'Hello', text: 'hi' })
    expect(await stored(inbox.id)).toEqual([{ subject: 'Hello', labels: [] }])
  })

  it("is refused for a domain on the organisation's list, its subdomains included", async () => {
    const inbox = await makeInbox(t)
    const domain = `org-${crypto.randomUUID().slice(0, 8)}.example.test`
    await listed(null, 'block', domain)
    const refused = await refusal(sendMail(rig, { from: `x@mail.${domain}`, to: inbox.address, subject: 'Buy', text: 'now' }))
    expect(refused?.responseCode).toBe(550)
    expect(refused?.command).toBe('RCPT TO')
    expect(await messagesOf(inbox.id)).toEqual([])
  })

  it('is refused with 550 after DATA when only the header From is blocked', async () => {
    const inbox = await makeInbox(t)
    await listed(inbox.id, 'block', 'spoofer.example.test')
    const refused = await refusal(
      sendMail(rig, {
        envelope: { from: 'bounce@relay.example.test', to: [inbox.address] },
        from: 'boss@spoofer.example.test',
        to: inbox.address,
        subject: 'Urgent',
        text: 'pay',
      }),
    )
    expect(refused?.responseCode).toBe(550)
    expect(refused?.command).toBe('DATA')
    expect(await messagesOf(inbox.id)).toEqual([])
  })

  it('is stored with the blocked label when the inbox flags blocked senders instead', async () => {
    const inbox = await makeInbox(t)
    await setting(inbox.id, { blocked_senders: 'flag' })
    await listed(inbox.id, 'block', 'pest@spam.example.test')
    await sendMail(rig, { from: 'pest@spam.example.test', to: inbox.address, subject: 'Buy', text: 'now' })
    expect(await stored(inbox.id)).toEqual([{ subject: 'Buy', labels: ['blocked'] }])
    const [thread] = await serviceSql()<{ tags: string[] }[]>`select tags from agentry.email_threads where inbox_id = ${inbox.id}`
    expect(thread.tags).toEqual(['blocked'])
  })

  it('gets in when an allow entry names it too', async () => {
    const inbox = await makeInbox(t)
    await listed(inbox.id, 'block', 'partner.example.test')
    await listed(inbox.id, 'allow', 'ann@partner.example.test')
    await sendMail(rig, { from: 'ann@partner.example.test', to: inbox.address, subject: 'Contract', text: 'attached' })
    expect(await stored(inbox.id)).toEqual([{ subject: 'Contract', labels: [] }])
  })
})

describe('allow-list mode', () => {
  it('accepts only senders on an allow list, of the inbox or the organisation, and refuses the rest with 550', async () => {
    const inbox = await makeInbox(t)
    await setting(inbox.id, { allow_list_only: true })
    const orgDomain = `allowed-${crypto.randomUUID().slice(0, 8)}.example.test`
    await listed(inbox.id, 'allow', 'ann@friends.example.test')
    await listed(null, 'allow', orgDomain)
    await sendMail(rig, { from: 'ann@friends.example.test', to: inbox.address, subject: 'From Ann', text: 'hi' })
    await sendMail(rig, { from: `bob@${orgDomain}`, to: inbox.address, subject: 'From Bob', text: 'hi' })
    const refused = await refusal(sendMail(rig, { from: 'eve@strangers.example.test', to: inbox.address, subject: 'From Eve', text: 'hi' }))
    expect(refused?.responseCode).toBe(550)
    expect(refused?.command).toBe('DATA')
    expect(refused?.response).toMatch(/allow list/)
    expect((await stored(inbox.id)).map((m) => m.subject)).toEqual(['From Ann', 'From Bob'])
  })
})
