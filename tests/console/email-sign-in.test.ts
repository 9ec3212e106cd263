import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT } from 'jose'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { hasChromium, launchBrowser, openTab, waitUntilShown } from './browser.ts'

const secret = 'console-email-test-secret-with-32-characters'
const anonKey = 'anon-key-of-the-test-project'
const password = 'correct horse battery staple'

/**
 * A stand-in for the project's Supabase Auth (GoTrue) on loopback: its password grant, with the CORS a browser
 * needs to call it from the console's origin, issuing access tokens signed with the project's
 * JWT secret, and its refresh-token grant.
 */
async function startAuthServer(
  users: Map<string, string>,
): Promise<{ url: string; close: () => Promise<void>; apikeys: string[]; grants: string[] }> {
  const apikeys: string[] = []
  const grants: string[] = []
  const refreshTokens = new Map<string, string>()
  const server = http.createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-headers': 'apikey, content-type, authorization',
      'access-control-allow-methods': 'POST, OPTIONS',
    }
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end()
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', async () => {
      apikeys.push(String(req.headers.apikey))
      const sent = JSON.parse(body || '{}')
      grants.push(String(req.url))
      const refreshed = req.url === '/auth/v1/token?grant_type=refresh_token' ? refreshTokens.get(sent.refresh_token) : undefined
      const userId = req.url === '/auth/v1/token?grant_type=password' ? users.get(`${sent.email}\n${sent.password}`) : refreshed
      if (!userId) {
        res.writeHead(400, { ...cors, 'content-type': 'application/json' })
        return void res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid login credentials' }))
      }
      // The first access token is about to expire, so that the console has to renew it at once.
      const expiresAt = Math.floor(Date.now() / 1000) + (refreshed ? 3600 : 30)
      const accessToken = await new SignJWT({ role: 'authenticated' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setAudience('authenticated')
        .setIssuer(`${url}/auth/v1`)
        .setIssuedAt()
        .setExpirationTime(expiresAt)
        .sign(new TextEncoder().encode(secret))
      const refreshToken = `r${refreshTokens.size + 1}`
      refreshTokens.set(refreshToken, userId)
      res.writeHead(200, { ...cors, 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          access_token: accessToken,
          token_type: 'bearer',
          expires_in: expiresAt - Date.now() / 1000,
          expires_at: expiresAt,
          refresh_token: refreshToken,
        }),
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { url, apikeys, grants, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

let api: TestApi
let tenant: Tenant
let auth: Awaited<ReturnType<typeof startAuthServer>>
let browser: Browser

beforeAll(async () => {
  if (!hasChromium) return
  tenant = await createTenant()
  const userId = crypto.randomUUID()
  await addMember(serviceSql(), { orgId: tenant.org.id, userId, role: 'admin' })
  auth = await startAuthServer(new Map([[`ada@example.com\n${password}`, userId]]))
  // As Supabase sets them for an Edge Function: the project's URL and anon key, and its JWT secret.
  process.env.SUPABASE_URL = auth.url
  process.env.SUPABASE_ANON_KEY = anonKey
  process.env.SUPABASE_JWT_SECRET = secret
  delete process.env.SUPABASE_JWKS_URL
  delete process.env.SUPABASE_JWT_ISSUER
  api = await startApi()
  browser = await launchBrowser()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
  await auth?.close()
})

describe.skipIf(!hasChromium)('signing in to the console with an email and password', () => {
  it("signs in against the project's Auth and renews the user's access token before it expires", async () => {
    const { page, context } = await openTab(browser)
    try {
      await page.goto(`${api.base}/console/sign-in`)
      await page.getByLabel('Email').fill('ada@example.com')
      await page.getByLabel('Password').fill('wrong password')
      await page.locator('#email-form button[type="submit"]').click()
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('Invalid login credentials')

      await page.getByLabel('Password').fill(password)
      await page.locator('#email-form button[type="submit"]').click()
      await page.waitForURL((url) => url.pathname.endsWith('/console/tokens'))
      await waitUntilShown(page)
      expect(await page.locator('#who-org').textContent()).toBe(`${tenant.org.name} · admin`)
      // The first access token had less than a minute left: the console renewed it before calling the API with it.
      expect(auth.grants).toEqual([
        '/auth/v1/token?grant_type=password',
        '/auth/v1/token?grant_type=password',
        '/auth/v1/token?grant_type=refresh_token',
      ])
      expect(auth.apikeys).toEqual([anonKey, anonKey, anonKey])
      const session = JSON.parse((await page.evaluate(() => sessionStorage.getItem('agentry.console.session')))!)
      expect(session).toMatchObject({ orgId: tenant.org.id, refreshToken: 'r2', auth: { url: auth.url, anonKey } })
      expect(session.expiresAt - Date.now() / 1000).toBeGreaterThan(3000)
      expect((await api.call('GET', '/me', { key: session.credential })).body.data.user.role).toBe('admin')
    } finally {
      await context.close()
    }
  }, 90_000)
})
