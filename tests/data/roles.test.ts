import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localIssuer } from '../../functions/_core/jwt.ts'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// A Supabase project's legacy JWT secret (HS256), read per request; tokens come from the local issuer.
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

async function userOf(role: 'owner' | 'admin' | 'member') {
  const t = await createTenant()
  const userId = crypto.randomUUID()
  await addMember(serviceSql(), { orgId: t.org.id, userId, role })
  const token = await new SignJWT({ role: 'authenticated', email: 'someone@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuedAt()
    .setIssuer(localIssuer)
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret))
  return { t, userId, token }
}

describe('dashboard users and data deletion', () => {
  it('lets an owner or an admin request a deletion, recording who asked', async () => {
    for (const role of ['owner', 'admin'] as const) {
      const { userId, token } = await userOf(role)
      const res = await api.call('POST', '/data/deletion-request', { key: token, body: { scope: 'organization' } })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      const [row] = await serviceSql()<{ user_id: string; key_id: string | null }[]>`
        select user_id, key_id from agentry.data_deletion_requests where id = ${res.body.data.id}`
      expect(row).toEqual({ user_id: userId, key_id: null })
    }
  })

  it('refuses a member, whose role reads only', async () => {
    const { token } = await userOf('member')
    const res = await api.call('POST', '/data/deletion-request', { key: token, body: { scope: 'organization' } })
    expect(res.status).toBe(403)
    expect(res.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'Your role in this organisation lacks the required scope "data:delete".',
    })
  })
})
