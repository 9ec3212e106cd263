import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// A Supabase project's legacy JWT secret (HS256); read per request, so setting it here is enough.
const secret = 'super-secret-jwt-token-with-at-least-32-characters-long'
process.env.SUPABASE_JWT_SECRET = secret

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

async function accessToken(userId: string, options: { expiresIn?: string; key?: string; role?: string } = {}) {
  return new SignJWT({ role: options.role ?? 'authenticated', email: 'someone@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(options.key ?? secret))
}

async function member(role: 'owner' | 'admin' | 'member') {
  const t = await createTenant()
  const userId = crypto.randomUUID()
  await addMember(serviceSql(), { orgId: t.org.id, userId, role })
  return { t, userId, token: await accessToken(userId) }
}

describe('dashboard users (Supabase Auth access tokens)', () => {
  it('lets an owner or admin manage keys, recording who created them', async () => {
    for (const role of ['owner', 'admin'] as const) {
      const { t, userId, token } = await member(role)
      const res = await api.call('POST', '/agent/api-keys', { key: token, body: { name: `by ${role}` } })
      expect(res.status).toBe(201)
      const [row] = await serviceSql()`select created_by_user, org_id from agentry.api_keys where id = ${res.body.data.id}`
      expect(row).toEqual({ created_by_user: userId, org_id: t.org.id })
      const me = await api.call('GET', '/me', { key: token })
      expect(me.body.data).toMatchObject({ credential: 'user', user: { id: userId, role }, org: { id: t.org.id }, scopes: ['*'] })
    }
  })

  it('lets a member read but not manage keys', async () => {
    const { token } = await member('member')
    expect((await api.call('GET', '/agent/api-keys', { key: token })).status).toBe(200)
    const res = await api.call('POST', '/agent/api-keys', { key: token, body: { name: 'nope' } })
    expect(res.status).toBe(403)
    expect(res.body.error).toEqual({ code: 'insufficient_scope', message: 'Your role in this organisation lacks the required scope "keys:write".' })
  })

  it('rejects expired, forged and non-user tokens with 401 saying which', async () => {
    const { userId } = await member('owner')
    const cases: [string, RegExp][] = [
      [await accessToken(userId, { expiresIn: '-1m' }), /expired/],
      [await accessToken(userId, { key: 'another-secret-another-secret-another-secret' }), /signature or format/],
      [await accessToken(userId, { role: 'anon' }), /not a signed-in user/],
      [await accessToken(crypto.randomUUID()), /not a member/],
    ]
    for (const [token, message] of cases) {
      const res = await api.call('GET', '/me', { key: token })
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('unauthorized')
      expect(res.body.error.message).toMatch(message)
    }
  })

  it('asks a member of several organisations to name one in X-Org-Id', async () => {
    const { t, userId, token } = await member('owner')
    const second = await createTenant()
    await addMember(serviceSql(), { orgId: second.org.id, userId, role: 'member' })
    const ambiguous = await api.call('GET', '/me', { key: token })
    expect(ambiguous.status).toBe(400)
    expect(ambiguous.body.error.message).toMatch(/X-Org-Id/)
    const chosen = await api.call('GET', '/me', { key: token, headers: { 'x-org-id': second.org.id } })
    expect(chosen.body.data).toMatchObject({ org: { id: second.org.id }, user: { role: 'member' } })
    const first = await api.call('GET', '/agent/org', { key: token, headers: { 'x-org-id': t.org.id } })
    expect(first.body.data.id).toBe(t.org.id)
    const malformed = await api.call('GET', '/me', { key: token, headers: { 'x-org-id': 'acme' } })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.message).toMatch(/Malformed X-Org-Id/)
    const stranger = await api.call('GET', '/me', { key: token, headers: { 'x-org-id': (await createTenant()).org.id } })
    expect(stranger.status).toBe(401)
  })
})
