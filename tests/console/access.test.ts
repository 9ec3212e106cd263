import http from 'node:http'
import { SignJWT } from 'jose'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { localIssuer } from '../../functions/_core/jwt.ts'
import { consolePages } from '../../functions/console/register-console.tsx'
import { addMember } from '../../scripts/lib/admin.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { startDenoEntry } from '../harness/deno.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn, waitUntilShown } from './browser.ts'

// A Supabase project's JWT secret, read per request: the console's users sign in with such access tokens.
const secret = 'console-test-secret-with-at-least-32-characters'
process.env.SUPABASE_JWT_SECRET = secret
delete process.env.SUPABASE_URL
delete process.env.SUPABASE_JWKS_URL
delete process.env.SUPABASE_JWT_ISSUER

let api: TestApi
let tenant: Tenant
let consoleBase: string

beforeAll(async () => {
  api = await startApi()
  consoleBase = `${api.base}/console`
  tenant = await createTenant()
})
afterAll(() => api.close())

async function accessTokenOf(role: 'owner' | 'admin' | 'member'): Promise<string> {
  const userId = crypto.randomUUID()
  await addMember(serviceSql(), { orgId: tenant.org.id, userId, role })
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setAudience('authenticated')
    .setIssuer(localIssuer)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(secret))
}

/** A GET with the Host header chosen (fetch may not set it), as a browser sends after DNS rebinding. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { host } }, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
      .on('error', reject)
  })
}

const signedInPaths = () => consolePages.filter((p) => p.signedIn !== false).map((p) => p.path.replace(':id', tenant.agent.id))

describe('the console over HTTP', () => {
  it('serves its pages as markup without data, with a policy that allows only its own scripts', async () => {
    for (const path of ['/sign-in', '/tokens', '/agents', `/agents/${tenant.agent.id}`]) {
      const res = await fetch(consoleBase + path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
      const html = await res.text()
      expect(html).not.toMatch(/https?:\/\//)
      expect(html).not.toContain(tenant.org.name)
    }
  })

  it('sends /console to the tokens page', async () => {
    const res = await fetch(consoleBase, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/functions/v1/api/v1/console/tokens')
  })

  it('serves each page script and the stylesheet, and 404 for a script that does not exist', async () => {
    const script = await fetch(`${consoleBase}/assets/tokens.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await script.text()).toContain('/agent/api-keys')
    expect((await fetch(`${consoleBase}/assets/console.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8')
    const missing = await fetch(`${consoleBase}/assets/nothing.js`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error.code).toBe('not_found')
  })

  it('is not part of the API document: its pages are not operations', async () => {
    const { paths } = (await api.call('GET', '/openapi.json')).body
    expect(Object.keys(paths).filter((path) => path.startsWith('/console'))).toEqual([])
  })

  it('offers the dev key only when npm start set it and the request was addressed to loopback', async () => {
    const url = `${consoleBase}/sign-in`
    const port = new URL(url).port
    delete process.env.AGENTRY_CONSOLE_DEV_KEY
    expect((await getWithHost(url, `127.0.0.1:${port}`)).body).not.toContain('dev-sign-in')
    process.env.AGENTRY_CONSOLE_DEV_KEY = 'pk_0123456789abcdef0123456789abcdef'
    try {
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
        expect((await getWithHost(url, host)).body).toContain('data-key="pk_0123456789abcdef0123456789abcdef"')
      }
      for (const host of [`rebound.example:${port}`, `192.168.1.20:${port}`, 'not a host']) {
        const answer = await getWithHost(url, host)
        expect(answer.body).not.toContain('pk_0123456789abcdef0123456789abcdef')
      }
    } finally {
      delete process.env.AGENTRY_CONSOLE_DEV_KEY
    }
  })
})

describe('the console under Deno, as the Edge Function', () => {
  it('renders the same pages and serves the same scripts at the path Supabase hands the function', async () => {
    const entry = await startDenoEntry('supabase/functions/api/index.ts', { DATABASE_URL: inject('databaseUrl') }, async (at) => {
      if (!(await fetch(`${at}/api/v1/openapi.json`)).ok) throw new Error('not ready')
    })
    try {
      const page = await fetch(`${entry.origin}/api/v1/console/tokens`)
      expect(page.status).toBe(200)
      const html = await page.text()
      expect(html).toContain('<h1>API tokens</h1>')
      expect(html).toContain('src="/api/v1/console/assets/tokens.js"')
      expect(html).toContain('data-api-base="/api/v1"')
      const script = await fetch(`${entry.origin}/api/v1/console/assets/tokens.js`)
      expect(await script.text()).toBe(await (await fetch(`${consoleBase}/assets/tokens.js`)).text())
    } finally {
      await entry.stop()
    }
  }, 120_000)
})

describe.skipIf(!hasChromium)('the console in a browser', () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchBrowser()
  }, 60_000)
  afterAll(() => browser?.close())

  it('sends a visitor without a session to sign-in, and back to the page after signing in', async () => {
    const { page, context } = await openTab(browser)
    try {
      for (const path of signedInPaths()) {
        await page.goto(consoleBase + path)
        await page.waitForURL((url) => url.pathname.endsWith('/console/sign-in'))
        expect(new URL(page.url()).searchParams.get('next')).toBe(new URL(consoleBase + path).pathname)
      }
      await page.getByLabel('API key or access token').fill(await tenant.key())
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL((url) => url.pathname.endsWith(signedInPaths().at(-1)!))
      await waitUntilShown(page)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('says why a credential is refused, and follows no `next` outside the console', async () => {
    const { page, context } = await openTab(browser)
    try {
      await page.goto(`${consoleBase}/sign-in?next=${encodeURIComponent('https://evil.example/')}`)
      await page.getByLabel('API key or access token').fill('pk_00000000000000000000000000000000')
      await page.getByRole('button', { name: 'Sign in' }).click()
      await expect.poll(() => page.getByRole('alert').textContent()).toBe('Invalid API key: no such key exists.')
      await page.getByLabel('API key or access token').fill(await tenant.key())
      await page.getByRole('button', { name: 'Sign in' }).click()
      await page.waitForURL((url) => url.pathname.endsWith('/console/tokens'))
    } finally {
      await context.close()
    }
  }, 90_000)

  it('ends the session when the API stops accepting its key', async () => {
    const { page, context } = await openTab(browser)
    try {
      const { key, id } = await tenant.keyWithId({ name: 'Soon revoked' })
      await signIn(page, consoleBase, key)
      expect((await api.call('DELETE', `/agent/api-keys/${id}`, { key: await tenant.key() })).status).toBe(200)
      await page.getByRole('link', { name: 'Agents' }).click()
      await page.waitForURL((url) => url.pathname.endsWith('/console/sign-in'))
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('signs in with a Supabase Auth access token; a member sees the pages but no write action', async () => {
    const { page, context } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await accessTokenOf('member'))
      expect(await page.locator('#who-org').textContent()).toBe(`${tenant.org.name} · member`)
      await page.waitForSelector('#token-rows tr')
      expect(await page.getByRole('button', { name: 'Generate API Token' }).isVisible()).toBe(false)
      expect(await page.locator('#token-rows button').count()).toBe(0)
      expect(await page.getByRole('columnheader', { name: 'Actions' }).isVisible()).toBe(false)
      await screenshot(page, 'tokens-member-desktop')

      await page.goto(`${consoleBase}/agents/${tenant.agent.id}`)
      await waitUntilShown(page)
      await expect.poll(() => page.getByLabel('Name', { exact: true }).inputValue()).toBe(tenant.agent.name)
      expect(await page.getByLabel('Name', { exact: true }).isDisabled()).toBe(true)
      expect(await page.getByRole('button', { name: 'Save changes' }).isVisible()).toBe(false)
      expect(await page.getByRole('heading', { name: 'Chat' }).isVisible()).toBe(false)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('an admin signed in with an access token sees the write actions', async () => {
    const { page, context } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await accessTokenOf('admin'))
      await expect.poll(() => page.getByRole('button', { name: 'Generate API Token' }).isVisible()).toBe(true)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('signs in with the dev key in one click under npm start', async () => {
    process.env.AGENTRY_CONSOLE_DEV_KEY = await tenant.key({ name: 'Development key' })
    const { page, context } = await openTab(browser)
    try {
      await page.goto(`${consoleBase}/sign-in`)
      await page.getByRole('button', { name: 'Sign in with the dev key' }).click()
      await page.waitForURL((url) => url.pathname.endsWith('/console/tokens'))
      await waitUntilShown(page)
      expect(await page.locator('#who-org').textContent()).toBe(tenant.org.name)
    } finally {
      delete process.env.AGENTRY_CONSOLE_DEV_KEY
      await context.close()
    }
  }, 90_000)

  it('has a sign-in page without serious accessibility violations, at desktop and phone widths', async () => {
    process.env.AGENTRY_CONSOLE_DEV_KEY = 'pk_0123456789abcdef0123456789abcdef'
    try {
      for (const [width, viewport] of [
        ['desktop', desktop],
        ['phone', phone],
      ] as const) {
        const { page, context } = await openTab(browser, viewport)
        try {
          await page.goto(`${consoleBase}/sign-in`)
          await page.waitForSelector('#key-form')
          expect(await seriousViolations(page)).toEqual([])
          await screenshot(page, `sign-in-${width}`)
          expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(
            viewport.width,
          )
        } finally {
          await context.close()
        }
      }
    } finally {
      delete process.env.AGENTRY_CONSOLE_DEV_KEY
    }
  }, 90_000)
})
