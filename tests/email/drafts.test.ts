import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localIssuer } from '../../functions/_core/jwt.ts'
import { addMember } from '../../scripts/lib/admin.ts'
import { type RunningJobRunner, startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { eventually, runnerPool } from '../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'
import { inbox } from './outbound/arrange.ts'

// Users sign in with tokens of the local issuer, signed with this legacy JWT secret.
const jwtSecret = 'super-secret-jwt-token-with-at-least-32-characters-long'
process.env.SUPABASE_JWT_SECRET = jwtSecret
delete process.env.SUPABASE_URL
delete process.env.SUPABASE_JWKS_URL
delete process.env.SUPABASE_JWT_ISSUER

// A runner delivers what is sent between inboxes here: this file has a database of its own.
let drop: () => Promise<void>
let api: TestApi
let runner: RunningJobRunner
let runnerSql: ReturnType<typeof runnerPool>

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  api = await startApi()
  runnerSql = runnerPool()
  runner = startJobRunner(runnerSql, { handlers: jobHandlers, pollMs: 100, onError: (e) => console.error(e) })
})

afterAll(async () => {
  await runner?.stop()
  await runnerSql?.end()
  await api?.close()
  await drop?.()
})

async function approvalInbox(t: Tenant) {
  const box = await inbox(t, { agent: 'agent', name: 'Careful Agent' })
  const orgKey = await t.key({ scopes: ['inboxes:write'] })
  const res = await api.call('PATCH', `/inboxes/${box.id}`, { key: orgKey, body: { requires_approval: true } })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  expect(res.body.data.requires_approval).toBe(true)
  return box
}

const inboundIn = (inboxId: string) =>
  serviceSql()<{ id: string; thread_id: string; subject: string; text: string; in_reply_to: string | null }[]>`
    select id, thread_id, subject, text, in_reply_to from agentry.email_messages
    where inbox_id = ${inboxId} and direction = 'inbound' order by created_at`

const eventsOf = (t: Tenant, type: string) =>
  serviceSql()<
    { data: Record<string, unknown> }[]
  >`select data from agentry.events where org_id = ${t.org.id} and type = ${type} order by seq`

async function listenToDrafts(t: Tenant) {
  await serviceSql()`
    insert into agentry.webhook_endpoints (org_id, url, events, secret)
    values (${t.org.id}, 'https://hooks.example.com/drafts', ${['draft.*']}, ${`whsec_${crypto.randomUUID()}`})`
}

describe('an inbox that requires approval', () => {
  it("keeps an agent key's send as a pending_approval draft that the agent may not send and the organisation sends, threaded", async () => {
    const t = await createTenant()
    await listenToDrafts(t)
    const careful = await approvalInbox(t)
    const customer = await inbox(t, { localPart: `customer-${crypto.randomUUID().slice(0, 8)}` })
    const customerKey = await t.key({ scopes: ['messages:write'] })
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write', 'drafts:read'] })

    // The customer writes first; the message arrives in the careful inbox's thread.
    const opening = await api.call('POST', '/messages/send', {
      key: customerKey,
      body: { to: careful.address, subject: 'Refund?', text: 'May I have a refund?', inbox_id: customer.id },
    })
    expect(opening.status, JSON.stringify(opening.body)).toBe(202)
    const [question] = await eventually(
      async () => (await inboundIn(careful.id)).length === 1 && inboundIn(careful.id),
      'the question arrives',
    )

    const held = await api.call('POST', '/messages/send', {
      key: agentKey,
      body: { to: customer.address, subject: 'Refund?', text: 'Yes, refunded.', thread_id: question.thread_id },
    })
    expect(held.status, JSON.stringify(held.body)).toBe(202)
    expect(held.body.message).toMatch(/^The inbox requires approval: nothing was sent; the message waits as draft [0-9a-f-]{36}/)
    expect(held.body.data).toMatchObject({
      inbox_id: careful.id,
      thread_id: question.thread_id,
      status: 'pending_approval',
      to: [customer.address],
      subject: 'Refund?',
      text: 'Yes, refunded.',
      agent_id: t.agent.id,
      message_id: null,
    })
    const draftId = held.body.data.id
    const outbound = await serviceSql()`select id from agentry.email_messages where inbox_id = ${careful.id} and direction = 'outbound'`
    expect(outbound).toEqual([])

    const listed = await api.call('GET', `/drafts?status=pending_approval&inbox_id=${careful.id}`, { key: agentKey })
    expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([draftId])

    const byAgent = await api.call('POST', `/drafts/${draftId}/send`, { key: agentKey })
    expect(byAgent.status).toBe(403)
    expect(byAgent.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'This draft waits for approval: only an organisation key with drafts:approve (or *) or an owner or admin may send it.',
    })
    const withoutApprove = await api.call('POST', `/drafts/${draftId}/send`, { key: await t.key({ scopes: ['messages:write'] }) })
    expect(withoutApprove.status).toBe(403)

    const approver = await t.key({ scopes: ['messages:write', 'drafts:approve'] })
    const sent = await api.call('POST', `/drafts/${draftId}/send`, { key: approver })
    expect(sent.status, JSON.stringify(sent.body)).toBe(202)
    expect(sent.body.data).toMatchObject({ id: draftId, status: 'sent', thread_id: question.thread_id, message_id: expect.any(String) })
    expect((await api.call('POST', `/drafts/${draftId}/send`, { key: approver })).status).toBe(409)

    const [answer] = await eventually(
      async () => (await inboundIn(customer.id)).length === 1 && inboundIn(customer.id),
      'the answer arrives',
    )
    expect(answer).toMatchObject({ thread_id: opening.body.data.thread_id, subject: 'Re: Refund?' })
    expect(answer.text).toMatch(/^Yes, refunded\.\s*$/)
    expect(answer.in_reply_to).not.toBeNull()

    expect((await eventsOf(t, 'draft.created')).map((e) => e.data)).toEqual([
      expect.objectContaining({ draft_id: draftId, inbox_id: careful.id, status: 'pending_approval', message_id: null }),
    ])
    expect((await eventsOf(t, 'draft.sent')).map((e) => e.data)).toEqual([
      expect.objectContaining({ draft_id: draftId, status: 'sent', message_id: sent.body.data.message_id }),
    ])
  })

  it("holds an agent's own draft when it sends it, and an agent key may not lift the inbox's approval", async () => {
    const t = await createTenant()
    const careful = await approvalInbox(t)
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write', 'drafts:write', 'inboxes:write'] })
    const created = await api.call('POST', `/inboxes/${careful.id}/drafts`, {
      key: agentKey,
      body: { to: 'client@example.com', subject: 'Quote', text: 'Here it is.' },
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.data.status).toBe('draft')
    const submitted = await api.call('POST', `/drafts/${created.body.data.id}/send`, { key: agentKey })
    expect(submitted.status).toBe(202)
    expect(submitted.body.data.status).toBe('pending_approval')

    const lift = await api.call('PATCH', `/inboxes/${careful.id}`, { key: agentKey, body: { requires_approval: false } })
    expect(lift.status).toBe(403)
    expect(lift.body.error.message).toBe('Only an organisation key or a user may set requires_approval, never an agent key.')
    const [row] = await serviceSql()`select requires_approval from agentry.email_inboxes where id = ${careful.id}`
    expect(row.requires_approval).toBe(true)
  })

  it("sends an organisation key's send at once", async () => {
    const t = await createTenant()
    const careful = await approvalInbox(t)
    const res = await api.call('POST', '/messages/send', {
      key: await t.key({ scopes: ['messages:write'] }),
      body: { to: 'client@example.com', subject: 'Hi', text: 'Hi', inbox_id: careful.id },
    })
    expect(res.status).toBe(202)
    expect(res.body.data.status).toBe('queued')
  })
})

async function userToken(t: Tenant, role: 'owner' | 'admin' | 'member'): Promise<string> {
  const userId = crypto.randomUUID()
  await addMember(serviceSql(), { orgId: t.org.id, userId, role })
  return new SignJWT({ role: 'authenticated', email: 'someone@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuedAt()
    .setIssuer(localIssuer)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(jwtSecret))
}

describe('who may approve', () => {
  it('an owner or admin sends a draft held for approval; a member may not', async () => {
    const t = await createTenant()
    const careful = await approvalInbox(t)
    const agentKey = await t.key({ agent: 'agent', scopes: ['messages:write'] })
    const hold = async () =>
      (
        await api.call('POST', '/messages/send', {
          key: agentKey,
          body: { to: 'client@example.com', subject: 'Offer', text: 'Ten percent off.', inbox_id: careful.id },
        })
      ).body.data.id as string
    const member = await api.call('POST', `/drafts/${await hold()}/send`, { key: await userToken(t, 'member') })
    expect(member.status).toBe(403)
    for (const role of ['owner', 'admin'] as const) {
      const res = await api.call('POST', `/drafts/${await hold()}/send`, { key: await userToken(t, role) })
      expect(res.status, `${role}: ${JSON.stringify(res.body)}`).toBe(202)
      expect(res.body.data.status).toBe('sent')
    }
    const everything = await api.call('POST', `/drafts/${await hold()}/send`, { key: await t.key({ scopes: ['*'] }) })
    expect(everything.status).toBe(202)
  })
})

describe('drafts', () => {
  it('are written, changed, listed, sent once complete, and deleted', async () => {
    const t = await createTenant()
    const key = await t.key({ scopes: ['drafts:read', 'drafts:write', 'messages:write'] })
    const box = await inbox(t)
    const created = await api.call('POST', `/inboxes/${box.id}/drafts`, { key, body: { subject: 'Notes' } })
    expect(created.status).toBe(201)
    const id = created.body.data.id
    expect(created.body.data).toMatchObject({ inbox_id: box.id, status: 'draft', to: [], subject: 'Notes', text: null })

    const incomplete = await api.call('POST', `/drafts/${id}/send`, { key })
    expect(incomplete.status).toBe(400)
    expect(incomplete.body.error.message).toMatch(/^The draft cannot be sent yet\. Invalid request: to: /)

    const changed = await api.call('PATCH', `/drafts/${id}`, { key, body: { to: ['a@example.com'], text: 'Body' } })
    expect(changed.status).toBe(200)
    expect(changed.body.data).toMatchObject({ to: ['a@example.com'], text: 'Body', subject: 'Notes' })
    expect((await api.call('GET', `/drafts/${id}`, { key })).body.data).toEqual(changed.body.data)

    const sent = await api.call('POST', `/drafts/${id}/send`, { key })
    expect(sent.status).toBe(202)
    expect(sent.body.data.status).toBe('sent')
    expect((await api.call('PATCH', `/drafts/${id}`, { key, body: { text: 'x' } })).status).toBe(409)

    const other = await api.call('POST', `/inboxes/${box.id}/drafts`, { key, body: { subject: 'Bin me' } })
    expect((await api.call('DELETE', `/drafts/${other.body.data.id}`, { key })).status).toBe(204)
    expect((await api.call('GET', `/drafts/${other.body.data.id}`, { key })).status).toBe(404)
  })
})
