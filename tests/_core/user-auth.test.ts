import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localIssuer } from '../../functions/_core/jwt.ts'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// A Supabase project's legacy JWT secret (HS256); read per request, so setting it here is enough. With no
// SUPABASE_URL or SUPABASE_JWT_ISSUER, tokens must come from the local auth server's issuer.
const secret = 'super-secret-jwt-token-with-at-least-32-characters-long'
process.env.SUPABASE_JWT_SECRET = secret
delete process.env.SUPABASE_URL
delete process.env.SUPABASE_JWKS_URL
delete process.env.SUPABASE_JWT_ISSUER

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

interface TokenOptions {
  expiresIn?: string | null
  key?: string
  role?: string
  issuer?: string | null
  audience?: string
}

async function accessToken(userId: string, options: TokenOptions = {}) {
  const token = new SignJWT({ role: options.role ?? 'authenticated', email: 'someone@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience(options.audience ?? 'authenticated')
    .setIssuedAt()
  if (options.issuer !== null) token.setIssuer(options.issuer ?? localIssuer)
  if (options.expiresIn !== null) token.setExpirationTime(options.expiresIn ?? '1h')
  return token.sign(new TextEncoder().encode(options.key ?? secret))
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
    expect(res.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'Your role in this organisation lacks the required scope "keys:write".',
    })
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

  it('rejects a token that never expires, with 401 saying it needs an expiry', async () => {
    const { userId } = await member('owner')
    const res = await api.call('GET', '/me', { key: await accessToken(userId, { expiresIn: null }) })
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({
      code: 'unauthorized',
      message: 'The access token has no expiry ("exp" claim): only tokens that expire are accepted.',
    })
  })

  it('rejects a token from another issuer, or from none, with 401 naming the expected issuer', async () => {
    const { userId } = await member('owner')
    const message = `The access token was not issued by this project's auth server (its "iss" claim must be "${localIssuer}").`
    for (const issuer of ['https://another-project.supabase.co/auth/v1', null]) {
      const res = await api.call('GET', '/me', { key: await accessToken(userId, { issuer }) })
      expect(res.status).toBe(401)
      expect(res.body.error).toEqual({ code: 'unauthorized', message })
    }
  })

  it('rejects a token meant for another audience, with 401 naming the "aud" claim', async () => {
    const { userId } = await member('owner')
    const res = await api.call('GET', '/me', { key: await accessToken(userId, { audience: 'service_role' }) })
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({ code: 'unauthorized', message: 'The access token\'s "aud" claim is not valid here.' })
  })

  it('rejects an unsigned token ("alg": "none") carrying valid claims, with 401', async () => {
    const { userId } = await member('owner')
    const signed = await accessToken(userId)
    const [, payload] = signed.split('.')
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')
    const res = await api.call('GET', '/me', { key: `${header}.${payload}.` })
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({
      code: 'unauthorized',
      message: 'The access token is invalid: its signature or format could not be verified.',
    })
  })

  it('refuses every access token with 401 saying so when sign-in is not configured', async () => {
    const { userId, token } = await member('owner')
    delete process.env.SUPABASE_JWT_SECRET
    try {
      const res = await api.call('GET', '/me', { key: token })
      expect(res.status).toBe(401)
      expect(res.body.error).toEqual({
        code: 'unauthorized',
        message: 'Dashboard sign-in is not configured on this server (set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL).',
      })
    } finally {
      process.env.SUPABASE_JWT_SECRET = secret
    }
    expect((await api.call('GET', '/me', { key: await accessToken(userId) })).status).toBe(200)
  })

  it('accepts the issuers named in SUPABASE_JWT_ISSUER instead of the default', async () => {
    const { userId } = await member('owner')
    const issuer = 'https://auth.example.com/auth/v1'
    process.env.SUPABASE_JWT_ISSUER = `https://elsewhere.example.com/auth/v1, ${issuer}`
    try {
      expect((await api.call('GET', '/me', { key: await accessToken(userId, { issuer }) })).status).toBe(200)
      expect((await api.call('GET', '/me', { key: await accessToken(userId) })).status).toBe(401)
    } finally {
      delete process.env.SUPABASE_JWT_ISSUER
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
