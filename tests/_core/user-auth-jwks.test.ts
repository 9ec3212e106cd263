import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

// Projects with asymmetric signing keys publish them as a JWKS; a real HTTP server on loopback plays the
// project's auth server here.
delete process.env.SUPABASE_JWT_SECRET
delete process.env.SUPABASE_JWT_ISSUER
delete process.env.SUPABASE_JWKS_URL
const { publicKey, privateKey } = await generateKeyPair('ES256')
let jwksServer: http.Server
let jwksRequests = 0
let api: TestApi

beforeAll(async () => {
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' }
  jwksServer = http.createServer((req, res) => {
    jwksRequests++
    if (req.url !== '/auth/v1/.well-known/jwks.json') return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  process.env.SUPABASE_URL = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`
  api = await startApi()
})
afterAll(async () => {
  await api.close()
  await new Promise((resolve) => jwksServer.close(resolve))
})

// The project's auth server issues its tokens as ${SUPABASE_URL}/auth/v1.
const sign = (userId: string, options: { issuer?: string } = {}) =>
  new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuer(options.issuer ?? `${process.env.SUPABASE_URL}/auth/v1`)
    .setExpirationTime('10m')
    .sign(privateKey)

describe('dashboard users with asymmetric (JWKS) access tokens', () => {
  it("verifies tokens against the project's published keys and fetches them once", async () => {
    const t = await createTenant()
    const userId = crypto.randomUUID()
    await addMember(serviceSql(), { orgId: t.org.id, userId, role: 'admin' })
    const token = await sign(userId)
    for (let i = 0; i < 3; i++) {
      const res = await api.call('GET', '/me', { key: token })
      expect(res.status).toBe(200)
      expect(res.body.data.user).toEqual({ id: userId, role: 'admin' })
    }
    expect(jwksRequests).toBe(1)
  })

  it('rejects a token signed by a key the project does not publish', async () => {
    const other = await generateKeyPair('ES256')
    const token = await new SignJWT({ role: 'authenticated' })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
      .setSubject(crypto.randomUUID())
      .setAudience('authenticated')
      .setIssuer(`${process.env.SUPABASE_URL}/auth/v1`)
      .setExpirationTime('10m')
      .sign(other.privateKey)
    const res = await api.call('GET', '/me', { key: token })
    expect(res.status).toBe(401)
    expect(res.body.error.message).toMatch(/signature or format/)
  })

  it("rejects a token the project signed for another issuer, naming the project's", async () => {
    const t = await createTenant()
    const userId = crypto.randomUUID()
    await addMember(serviceSql(), { orgId: t.org.id, userId, role: 'admin' })
    const res = await api.call('GET', '/me', { key: await sign(userId, { issuer: 'https://attacker.example/auth/v1' }) })
    expect(res.status).toBe(401)
    expect(res.body.error.message).toBe(
      `The access token was not issued by this project's auth server (its "iss" claim must be "${process.env.SUPABASE_URL}/auth/v1").`,
    )
  })

  it("rejects an HS256 token keyed with the project's public key (algorithm confusion), or one with no signature", async () => {
    const t = await createTenant()
    const userId = crypto.randomUUID()
    await addMember(serviceSql(), { orgId: t.org.id, userId, role: 'admin' })
    const claims = { role: 'authenticated', sub: userId, aud: 'authenticated', iss: `${process.env.SUPABASE_URL}/auth/v1` }
    const publicPem = await exportSPKI(publicKey)
    const confused = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: 'test-key' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(publicPem))
    const [, payload] = confused.split('.')
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'test-key' })).toString('base64url')}.${payload}.`
    for (const token of [confused, unsigned]) {
      const res = await api.call('GET', '/me', { key: token })
      expect(res.status).toBe(401)
      expect(res.body.error).toEqual({
        code: 'unauthorized',
        message: 'The access token is invalid: its signature or format could not be verified.',
      })
    }
    expect((await api.call('GET', '/me', { key: await sign(userId) })).status).toBe(200)
  })
})
