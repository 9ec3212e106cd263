import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { expect } from 'vitest'

/** Debian's chromium, driven by playwright-core (no browser is downloaded); the console tests skip without it. */
export const chromiumPath = '/usr/bin/chromium'
export const hasChromium = fs.existsSync(chromiumPath)

export const desktop = { width: 1280, height: 800 }
export const phone = { width: 390, height: 844 }

const artifacts = path.resolve('test-artifacts/console')
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core')
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
}

/**
 * A fresh browser tab (its own sessionStorage) that may reach loopback only, as offline as the console must work:
 * every request elsewhere is refused and noted in `offline`.
 */
export async function openTab(browser: Browser, viewport = desktop): Promise<{ context: BrowserContext; page: Page; offline: string[] }> {
  const context = await browser.newContext({ viewport })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'])
  const page = await context.newPage()
  const offline: string[] = []
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (url.hostname === '127.0.0.1') return route.continue()
    offline.push(url.href)
    return route.abort()
  })
  return { context, page, offline }
}

/** Signs in through the sign-in page with an API key or access token pasted in, and waits for the page it lands on. */
export async function signIn(page: Page, consoleBase: string, credential: string, next = '/tokens'): Promise<void> {
  await page.goto(`${consoleBase}/sign-in?next=${encodeURIComponent(new URL(consoleBase + next).pathname)}`)
  await page.getByLabel('API key or access token').fill(credential)
  await page.locator('#key-form button[type="submit"]').click()
  await page.waitForURL((url) => url.pathname.endsWith(next))
  await waitUntilShown(page)
}

/** A signed-in page shows its content once /me has answered and its script has rendered. */
export async function waitUntilShown(page: Page): Promise<void> {
  await page.waitForSelector('main:not([data-pending])', { timeout: 20_000 })
}

/** The serious and critical accessibility violations axe-core finds on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not govern.
  await page.evaluate(axeSource)
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run: (ctx: Document) => Promise<any> } }).axe.run(document)
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n: any) => n.target.join(' ')) }))
  })
  return violations
    .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
    .map((v: { id: string; impact: string; targets: string[] }) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`)
}

/** Saves a full-page screenshot under test-artifacts/console/ (kept by CI, ignored by git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(artifacts, { recursive: true })
  const file = path.join(artifacts, `${name}.png`)
  await page.screenshot({ path: file, fullPage: true })
  expect(fs.statSync(file).size).toBeGreaterThan(1000)
}
