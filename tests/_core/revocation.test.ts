import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localIssuer } from '../../functions/_core/jwt.ts'
import { addMember } from '../../scripts/lib/admin.ts'
import { callApi, type ApiResponse } from '../harness/api.ts'
import { startApiProcess, type ApiProcess } from '../harness/processes.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// Two API processes: a change made through (or beside) one must reach the other's credential cache.
const secret = 'super-secret-jwt-token-with-at-least-32-characters-long'
let a: ApiProcess
let b: ApiProcess
// A third process that hears no changes, as on the Supabase Edge Runtime: started beside the others.
let edge: ApiProcess
beforeAll(async () => {
  const env = { SUPABASE_JWT_SECRET: secret, SUPABASE_URL: '', SUPABASE_JWT_ISSUER: '' }
  ;[a, b, edge] = await Promise.all([startApiProcess(env), startApiProcess(env), startApiProcess({ AUTH_CACHE_LISTEN: 'false' })])
})
afterAll(() => Promise.all([a, b, edge].map((p) => p?.stop())))

/**
 * Calls `call` every 20 ms until `changed` holds for its answer, and returns how long that took after
 * `since`. Fails after 3 s.
 */
async function timeUntil(since: number, call: () => Promise<ApiResponse>, changed: (r: ApiResponse) => boolean): Promise<number> {
  while (Date.now() - since < 3000) {
    if (changed(await call())) return Date.now() - since
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error('the change did not arrive within 3 s')
}

/** Waits, checking every 20 ms, until `condition` holds; fails after 5 s with `failure`. */
async function until(condition: () => boolean, failure: string) {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(failure)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('revocation across processes', () => {
  it('refuses a key on process B within a second of its revocation on process A, while B is under load', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const victim = await t.keyWithId()
    expect((await callApi(b.base, 'GET', '/me', { key: victim.key })).status).toBe(200)

    const answers: { sentAt: number; receivedAt: number; status: number }[] = []
    let loading = true
    // Three callers at once: under the free plan's four requests in flight per process.
    const load = Promise.all(
      Array.from({ length: 3 }, async () => {
        while (loading) {
          const sentAt = Date.now()
          const { status } = await callApi(b.base, 'GET', '/me', { key: victim.key })
          answers.push({ sentAt, receivedAt: Date.now(), status })
        }
      }),
    )
    // Revoked once B has answered a few times under the load, not after a fixed wait.
    await until(() => answers.length > 5, 'B answered fewer than 6 calls in 5 s')
    const revoke = await callApi(a.base, 'DELETE', `/agent/api-keys/${victim.id}`, { key: admin })
    const revokedAt = Date.now()
    expect(revoke.status).toBe(200)
    // The process that revoked it refuses it on the very next request.
    expect((await callApi(a.base, 'GET', '/me', { key: victim.key })).status).toBe(401)
    // The load runs on until B has answered more than five calls sent a second or more after the revocation.
    await until(() => answers.filter((x) => x.sentAt >= revokedAt + 1000).length > 5, 'B answered too few calls after the revocation')
    loading = false
    await load

    expect(answers.filter((x) => x.status === 200 && x.sentAt < revokedAt).length).toBeGreaterThan(5)
    expect(answers.every((x) => x.status === 200 || x.status === 401)).toBe(true)
    const firstRefusal = answers.find((x) => x.status === 401)!
    const propagationMs = firstRefusal.receivedAt - revokedAt
    expect(propagationMs).toBeLessThan(1000)
    const late = answers.filter((x) => x.sentAt >= revokedAt + 1000)
    expect(late.length).toBeGreaterThan(5)
    expect(late.every((x) => x.status === 401)).toBe(true)
  })

  it('applies a change of scopes on another process within a second', async () => {
    const t = await createTenant()
    const { key, id } = await t.keyWithId({ scopes: ['keys:read', 'agents:read'] })
    expect((await callApi(b.base, 'GET', '/agent/api-keys', { key })).status).toBe(200)
    const changedAt = Date.now()
    await serviceSql()`update agentry.api_keys set scopes = '{agents:read}' where id = ${id}`
    const ms = await timeUntil(
      changedAt,
      () => callApi(b.base, 'GET', '/agent/api-keys', { key }),
      (r) => r.status === 403,
    )
    expect(ms).toBeLessThan(1000)
    const refused = await callApi(b.base, 'GET', '/agent/api-keys', { key })
    expect(refused.body.error.code).toBe('insufficient_scope')
  })

  it('applies a new expiry on another process within a second', async () => {
    const t = await createTenant()
    const { key, id } = await t.keyWithId()
    expect((await callApi(b.base, 'GET', '/me', { key })).status).toBe(200)
    const changedAt = Date.now()
    const expiresAt = new Date(changedAt + 3_600_000)
    await serviceSql()`update agentry.api_keys set expires_at = ${expiresAt} where id = ${id}`
    // B learns the new expiry without being told again. That a cached expiry is checked on every request is
    // tested by stepping the clock, in tests/keys/keys.test.ts.
    const ms = await timeUntil(
      changedAt,
      () => callApi(b.base, 'GET', '/me', { key }),
      (r) => r.status === 200 && r.body.data.key.expires_at !== null,
    )
    expect(ms).toBeLessThan(1000)
    const learnt = await callApi(b.base, 'GET', '/me', { key })
    expect(Date.parse(learnt.body.data.key.expires_at)).toBe(expiresAt.getTime())
  })

  it("applies a change of plan or of the organisation's limit on another process within a second", async () => {
    const t = await createTenant()
    const key = await t.key()
    const before = await callApi(b.base, 'GET', '/me', { key })
    expect(before.body.data.org.plan).toBe('free')
    let changedAt = Date.now()
    await serviceSql()`update agentry.organisations set plan = 'pro' where id = ${t.org.id}`
    expect(
      await timeUntil(
        changedAt,
        () => callApi(b.base, 'GET', '/me', { key }),
        (r) => r.body.data?.org.plan === 'pro',
      ),
    ).toBeLessThan(1000)
    changedAt = Date.now()
    await serviceSql()`update agentry.organisations set rate_limit_per_minute = 777 where id = ${t.org.id}`
    expect(
      await timeUntil(
        changedAt,
        () => callApi(b.base, 'GET', '/me', { key }),
        (r) => r.headers.get('x-ratelimit-limit') === '777',
      ),
    ).toBeLessThan(1000)
  })

  it('without a LISTEN, as on the Supabase Edge Runtime, refuses a revoked key once its cached entry has lived 2 s (the real-time smoke test of the cache TTL)', async () => {
    const t = await createTenant()
    const { key, id } = await t.keyWithId()
    expect((await callApi(edge.base, 'GET', '/me', { key })).status).toBe(200)
    const revokedAt = Date.now()
    await serviceSql()`update agentry.api_keys set status = 'revoked', revoked_at = now() where id = ${id}`
    const ms = await timeUntil(
      revokedAt,
      () => callApi(edge.base, 'GET', '/me', { key }),
      (r) => r.status === 401,
    )
    expect(ms).toBeLessThan(2500)
  })

  it("applies a dashboard user's change of role, and the end of their membership, on another process within a second", async () => {
    const t = await createTenant()
    const userId = crypto.randomUUID()
    await addMember(serviceSql(), { orgId: t.org.id, userId, role: 'admin' })
    const token = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setAudience('authenticated')
      .setIssuer(localIssuer)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret))
    const me = await callApi(b.base, 'GET', '/me', { key: token })
    expect(me.body.data).toMatchObject({ credential: 'user', user: { id: userId, role: 'admin' } })
    let changedAt = Date.now()
    await serviceSql()`update agentry.members set role = 'member' where user_id = ${userId}`
    expect(
      await timeUntil(
        changedAt,
        () => callApi(b.base, 'GET', '/me', { key: token }),
        (r) => r.body.data?.user.role === 'member',
      ),
    ).toBeLessThan(1000)
    changedAt = Date.now()
    await serviceSql()`delete from agentry.members where user_id = ${userId}`
    expect(
      await timeUntil(
        changedAt,
        () => callApi(b.base, 'GET', '/me', { key: token }),
        (r) => r.status === 401,
      ),
    ).toBeLessThan(1000)
  })
})
