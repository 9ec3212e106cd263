import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { resetClockForTests, stopClockForTests } from '../../functions/_core/clock.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { newAgentKeys, registerAgent, registration, sign, signedCall, uniqueSlug } from './agent-client.ts'

let api: TestApi
beforeAll(async () => {
  // Every registration in this file comes from loopback: the limit has its own file (agent-register-limit).
  process.env.AGENT_REGISTRATION_LIMIT = '1000'
  // Refused signed requests count as failed authentications from loopback, like any other credential's.
  process.env.AUTH_FAILURE_LIMIT = '1000'
  api = await startApi()
})
afterAll(() => api.close())
afterEach(() => resetClockForTests())

describe('an agent registering itself with an Ed25519 keypair', () => {
  it('gets a token and a challenge, and on signing it an organisation, an agent and an inbox named by its slug', async () => {
    const keys = newAgentKeys()
    const slug = uniqueSlug()
    const started = await api.call('POST', '/auth/agent-register', { body: registration(keys, slug) })
    expect(started.status).toBe(201)
    expect(started.body.data).toEqual({
      agentSignupToken: expect.stringMatching(/^agst_[0-9a-f]{64}$/),
      challenge: expect.any(String),
      expiresIn: 900,
    })
    const { agentSignupToken, challenge } = started.body.data

    const done = await api.call('POST', '/auth/agent-verify', { body: { agentSignupToken, signature: sign(challenge, keys.secretKey) } })
    expect(done.status).toBe(201)
    expect(done.body.data).toEqual({ agentId: expect.any(String), orgId: expect.any(String), inboxEmail: `${slug}@agents.localhost` })

    const [org] = await serviceSql()`select name, plan, slug from agentry.organisations where id = ${done.body.data.orgId}`
    expect(org).toEqual({ name: 'Self-made Org', plan: 'free', slug })
    const [inbox] = await serviceSql()`select agent_id, org_id from agentry.email_inboxes where address = ${`${slug}@agents.localhost`}`
    expect(inbox).toEqual({ agent_id: done.body.data.agentId, org_id: done.body.data.orgId })
    // Only the token's SHA-256 is kept, and the signup is spent.
    const [signup] = await serviceSql()`
      select used_at is not null as used from agentry.agent_signups where token_hash = sha256(convert_to(${agentSignupToken}, 'UTF8'))`
    expect(signup).toEqual({ used: true })
  })

  it('then reads its organisation and its inbox with signed requests, and creates itself a key', async () => {
    const agent = await registerAgent(api)
    const org = await signedCall(api, agent, 'GET', '/agent/org')
    expect(org.status).toBe(200)
    expect(org.body.data).toMatchObject({ id: agent.orgId, name: 'Self-made Org', plan: 'free' })

    const inboxes = await signedCall(api, agent, 'GET', '/inboxes')
    expect(inboxes.status).toBe(200)
    expect(inboxes.body.data.map((i: { address: string }) => i.address)).toEqual([agent.inboxEmail])

    const me = await signedCall(api, agent, 'GET', '/me')
    expect(me.body.data).toMatchObject({ credential: 'agent_signature', agent_id: agent.agentId, key: null, scopes: ['*'] })

    const body = { name: 'outbound-only', scopes: ['messages:write', 'inboxes:read'] }
    const created = await signedCall(api, agent, 'POST', '/agent/api-keys', { body })
    expect(created.status).toBe(201)
    expect(created.body.data).toMatchObject({ kind: 'agent', agent_id: agent.agentId, mode: 'live', scopes: body.scopes })
    const keys = await signedCall(api, agent, 'GET', '/agent/api-keys')
    expect(keys.body.data.map((k: { id: string }) => k.id)).toEqual([created.body.data.id])
  })

  it('sends mail from its inbox with a signed request', async () => {
    const agent = await registerAgent(api)
    const peer = await registerAgent(api)
    const inboxes = await signedCall(api, agent, 'GET', '/inboxes')
    const body = { inbox_id: inboxes.body.data[0].id, to: [peer.inboxEmail], subject: 'Hello', text: 'From one agent to another.' }
    const sent = await signedCall(api, agent, 'POST', '/messages/send', { body })
    expect(sent.status).toBe(202)
    const [queued] = await serviceSql()`select org_id from agentry.email_messages where id = ${sent.body.data.message_id}`
    expect(queued).toEqual({ org_id: agent.orgId })
    expect(sent.body.data).toMatchObject({ status: 'queued', accepted: [peer.inboxEmail], rejected: [] })
  })

  it('sees nothing of another organisation', async () => {
    const agent = await registerAgent(api)
    const other = await createTenant()
    const inboxes = await signedCall(api, agent, 'GET', '/inboxes')
    expect(inboxes.body.data.every((i: { org_id?: string }) => i.org_id === undefined || i.org_id === agent.orgId)).toBe(true)
    const theirs = await signedCall(api, agent, 'GET', `/agents/${other.agent.id}`)
    expect(theirs.status).toBe(404)
  })

  it('is refused a slug an organisation already has, when registering and again when verifying', async () => {
    const first = await registerAgent(api)
    const taken = await api.call('POST', '/auth/agent-register', { body: registration(newAgentKeys(), first.slug) })
    expect(taken.status).toBe(409)
    expect(taken.body.error).toEqual({ code: 'conflict', message: `The slug "${first.slug}" is taken: choose another.` })

    // Two signups for one free slug: the first to verify has it.
    const slug = uniqueSlug()
    const a = newAgentKeys()
    const b = newAgentKeys()
    const startA = await api.call('POST', '/auth/agent-register', { body: registration(a, slug) })
    const startB = await api.call('POST', '/auth/agent-register', { body: registration(b, slug) })
    const verify = (started: typeof startA, keys: typeof a) =>
      api.call('POST', '/auth/agent-verify', {
        body: { agentSignupToken: started.body.data.agentSignupToken, signature: sign(started.body.data.challenge, keys.secretKey) },
      })
    expect((await verify(startB, b)).status).toBe(201)
    const late = await verify(startA, a)
    expect(late.status).toBe(409)
    expect(late.body.error.message).toMatch(/slug was taken/)
    const [orgs] = await serviceSql()`select count(*)::int as n from agentry.organisations where slug = ${slug}`
    expect(orgs.n).toBe(1)
  })

  it('is refused a slug that is already an inbox on the shared domain', async () => {
    const t = await createTenant()
    const slug = uniqueSlug('inbox')
    const made = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part: slug } })
    expect(made.status).toBe(201)
    expect((await api.call('POST', '/auth/agent-register', { body: registration(newAgentKeys(), slug) })).status).toBe(409)
  })

  it('cannot complete a signup after its 900 seconds', async () => {
    const start = Date.now()
    stopClockForTests(start)
    const keys = newAgentKeys()
    const started = await api.call('POST', '/auth/agent-register', { body: registration(keys) })
    stopClockForTests(start + 900_000)
    const res = await api.call('POST', '/auth/agent-verify', {
      body: { agentSignupToken: started.body.data.agentSignupToken, signature: sign(started.body.data.challenge, keys.secretKey) },
    })
    expect(res.status).toBe(410)
    expect(res.body.error).toEqual({ code: 'gone', message: 'This signup has expired: register again with POST /auth/agent-register.' })
  })

  it('answers 401 to a signature by another key, 404 to an unknown token and 409 to a token used already', async () => {
    const keys = newAgentKeys()
    const started = await api.call('POST', '/auth/agent-register', { body: registration(keys) })
    const { agentSignupToken, challenge } = started.body.data
    const forged = await api.call('POST', '/auth/agent-verify', {
      body: { agentSignupToken, signature: sign(challenge, newAgentKeys().secretKey) },
    })
    expect(forged.status).toBe(401)
    expect(forged.body.error.code).toBe('unauthorized')
    const garbage = await api.call('POST', '/auth/agent-verify', { body: { agentSignupToken, signature: 'bm90IGEgc2lnbmF0dXJl' } })
    expect(garbage.status).toBe(401)

    const unknown = await api.call('POST', '/auth/agent-verify', {
      body: { agentSignupToken: `agst_${'0'.repeat(64)}`, signature: sign(challenge, keys.secretKey) },
    })
    expect(unknown.status).toBe(404)

    const signature = sign(challenge, keys.secretKey)
    expect((await api.call('POST', '/auth/agent-verify', { body: { agentSignupToken, signature } })).status).toBe(201)
    const again = await api.call('POST', '/auth/agent-verify', { body: { agentSignupToken, signature } })
    expect(again.status).toBe(409)
    expect(again.body.error.message).toBe('This signup has been completed already.')
  })

  it('refuses a public key that is not 32 bytes, and a slug that is not a slug', async () => {
    const short = await api.call('POST', '/auth/agent-register', {
      body: { ...registration(newAgentKeys()), publicKey: Buffer.alloc(31).toString('base64') },
    })
    expect(short.status).toBe(400)
    expect(short.body.error.code).toBe('validation_failed')
    expect(short.body.error.message).toContain('32-byte Ed25519 public key')
    const notBase64 = await api.call('POST', '/auth/agent-register', {
      body: { ...registration(newAgentKeys()), publicKey: 'not base64!' },
    })
    expect(notBase64.status).toBe(400)
    const slug = await api.call('POST', '/auth/agent-register', { body: registration(newAgentKeys(), 'My_Org') })
    expect(slug.status).toBe(400)
    expect(slug.body.error.message).toContain('lower-case letters, digits or hyphens')
  })

  it('answers 415 to a body not sent as JSON, on both calls', async () => {
    for (const path of ['/auth/agent-register', '/auth/agent-verify']) {
      const res = await api.call('POST', path, {
        rawBody: JSON.stringify(registration(newAgentKeys())),
        headers: { 'content-type': 'text/plain' },
      })
      expect(res.status, path).toBe(415)
      expect(res.body.error.code, path).toBe('unsupported_media_type')
    }
  })
})

describe("an agent's signed request", () => {
  it('is refused when the signature was made for another method, path, query or body', async () => {
    const agent = await registerAgent(api)
    const body = { name: 'k', scopes: ['inboxes:read'] }
    const cases = [
      signedCall(api, agent, 'GET', '/agent/org', { signed: { method: 'DELETE' } }),
      signedCall(api, agent, 'GET', '/agent/org', { signed: { path: '/agent/api-keys' } }),
      signedCall(api, agent, 'GET', '/inboxes?limit=1', { signed: { path: '/inboxes?limit=2' } }),
      signedCall(api, agent, 'POST', '/agent/api-keys', { body, signed: { body: JSON.stringify({ ...body, scopes: ['*'] }) } }),
      signedCall(api, agent, 'GET', '/agent/org', { signed: { timestamp: Math.floor(Date.now() / 1000) - 1 } }),
    ]
    for (const res of await Promise.all(cases)) {
      expect(res.status).toBe(401)
      expect(res.body.error.message).toMatch(/^The signature does not match this request/)
    }
    const [keys] = await serviceSql()`select count(*)::int as n from agentry.api_keys where org_id = ${agent.orgId}`
    expect(keys.n).toBe(0)
  })

  it('is refused outside 300 seconds of its timestamp, either way, and without one', async () => {
    const agent = await registerAgent(api)
    const t = Math.floor(Date.now() / 1000)
    for (const timestamp of [t - 330, t + 330]) {
      const res = await signedCall(api, agent, 'GET', '/agent/org', { timestamp })
      expect(res.status).toBe(401)
      expect(res.body.error.message).toMatch(/^X-Agent-Timestamp is 3[23]\d s away from the server's clock/)
    }
    expect((await signedCall(api, agent, 'GET', '/agent/org', { timestamp: t - 200 })).status).toBe(200)
    const res = await api.call('GET', '/agent/org', {
      headers: { authorization: `Agent ${agent.agentId}:${sign('anything', agent.keys.secretKey)}` },
    })
    expect(res.status).toBe(401)
    expect(res.body.error.message).toMatch(/needs the X-Agent-Timestamp header/)
  })

  it('is refused the second time the very same signature arrives', async () => {
    const agent = await registerAgent(api)
    const { signedHeaders } = await import('./agent-client.ts')
    const headers = signedHeaders(agent.agentId, agent.keys.secretKey, 'GET', '/agent/org')
    expect((await api.call('GET', '/agent/org', { headers })).status).toBe(200)
    const replay = await api.call('GET', '/agent/org', { headers })
    expect(replay.status).toBe(401)
    expect(replay.body.error.message).toBe('This signature has been used already: sign each request anew, with its own timestamp.')
  })

  it('is refused for an agent that never registered a key, and for a malformed header', async () => {
    const t = await createTenant()
    const { signedHeaders } = await import('./agent-client.ts')
    const unknown = await api.call('GET', '/agent/org', {
      headers: signedHeaders(t.agent.id, newAgentKeys().secretKey, 'GET', '/agent/org'),
    })
    expect(unknown.status).toBe(401)
    expect(unknown.body.error.message).toBe('Unknown agent: no agent with this id has registered a public key.')
    const malformed = await api.call('GET', '/agent/org', { headers: { authorization: 'Agent not-an-id:abc', 'x-agent-timestamp': '1' } })
    expect(malformed.status).toBe(401)
    expect(malformed.body.error.message).toMatch(/^Malformed Authorization header: expected "Agent <agent id>:/)
  })

  it('stops working once its agent is deleted', async () => {
    const agent = await registerAgent(api)
    expect((await signedCall(api, agent, 'GET', '/agent/org')).status).toBe(200)
    await serviceSql()`delete from agentry.agents where id = ${agent.agentId}`
    // The deletion is announced on the auth channel; the cache forgets the agent when it hears it.
    let status = 200
    for (let i = 0; i < 50 && status === 200; i++) {
      status = (await signedCall(api, agent, 'GET', '/agent/org')).status
      if (status === 200) await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toBe(401)
  })
})
