import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn } from './browser.ts'

let api: TestApi
let browser: Browser
let tenant: Tenant
let consoleBase: string

beforeAll(async () => {
  if (!hasChromium) return
  api = await startApi()
  consoleBase = `${api.base}/console`
  browser = await launchBrowser()
  tenant = await createTenant()
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
})

const rowOf = (page: Page, name: string) => page.locator('#token-rows tr', { has: page.getByRole('cell', { name, exact: true }) })

describe.skipIf(!hasChromium)('the API tokens page', () => {
  it('generates a token and shows it once, then never again', async () => {
    const { page, context, offline } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await tenant.key({ name: 'Owner key' }))
      await page.getByRole('button', { name: 'Generate API Token' }).click()
      const dialog = page.getByRole('dialog', { name: 'Generate API Token' })
      await dialog.getByLabel('Name').fill('CI deploy')
      await dialog.getByRole('group', { name: 'datasets' }).getByLabel('Read').check()
      await dialog.getByRole('group', { name: 'agents' }).getByLabel('Write').check()
      await dialog.getByLabel('Expires').selectOption('7')
      await screenshot(page, 'tokens-generate-dialog-desktop')
      await dialog.getByRole('button', { name: 'Generate' }).click()

      const secret = page.getByRole('dialog', { name: 'Your new API token' })
      await expect.poll(() => secret.isVisible()).toBe(true)
      await expect.poll(() => secret.getByRole('note').textContent()).toMatch(/only time it is shown/)
      const token = (await secret.locator('#secret-value').textContent())!
      expect(token).toMatch(/^pk_[0-9a-f]{32}$/)
      await secret.getByRole('button', { name: 'Copy' }).click()
      await expect.poll(() => secret.locator('#secret-copy-status').textContent()).toBe('Copied to the clipboard.')
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token)
      await screenshot(page, 'tokens-secret-dialog-desktop')

      // What the API issued is the token the dialog showed, with the scopes and expiry chosen.
      const me = await api.call('GET', '/me', { key: token })
      expect(me.status).toBe(200)
      expect(me.body.data.scopes.sort()).toEqual(['agents:write', 'datasets:read'])
      const expiresIn = Date.parse(me.body.data.key.expires_at) - Date.now()
      expect(expiresIn).toBeGreaterThan(6.9 * 86_400_000)
      expect(expiresIn).toBeLessThan(7.1 * 86_400_000)

      await secret.getByRole('button', { name: 'Done' }).click()
      await expect.poll(() => secret.isVisible()).toBe(false)
      expect(await page.content()).not.toContain(token)
      const row = rowOf(page, 'CI deploy')
      await expect.poll(() => row.locator('.badge').textContent()).toBe('active')
      expect(await row.locator('code').textContent()).toBe(token.slice(0, 11))
      await page.reload()
      await expect.poll(() => rowOf(page, 'CI deploy').count()).toBe(1)
      expect(await page.content()).not.toContain(token)
      expect(offline).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it('revokes a token after a confirmation naming it, and the badge turns to revoked', async () => {
    const { page, context } = await openTab(browser)
    try {
      const { key: doomed } = await tenant.keyWithId({ name: 'Old integration', scopes: ['agents:read'] })
      await signIn(page, consoleBase, await tenant.key({ name: 'Revoker' }))
      const row = rowOf(page, 'Old integration')
      await expect.poll(() => row.locator('.badge').textContent()).toBe('active')
      await row.getByRole('button', { name: 'Revoke Old integration' }).click()
      const confirm = page.getByRole('dialog', { name: 'Revoke token' })
      expect(await confirm.textContent()).toContain('Revoke the token “Old integration”')
      await confirm.getByRole('button', { name: 'Revoke token' }).click()
      await expect.poll(() => row.locator('.badge').textContent()).toBe('revoked')
      expect((await api.call('GET', '/me', { key: doomed })).status).toBe(401)
      await screenshot(page, 'tokens-desktop')
    } finally {
      await context.close()
    }
  }, 90_000)

  it('keeps a token when its revocation is cancelled, and deletes one for good when confirmed', async () => {
    const { page, context } = await openTab(browser)
    try {
      const { key: kept } = await tenant.keyWithId({ name: 'Kept key', scopes: ['agents:read'] })
      await tenant.keyWithId({ name: 'Deleted key', scopes: ['agents:read'] })
      await signIn(page, consoleBase, await tenant.key({ name: 'Deleter' }))
      await rowOf(page, 'Kept key').getByRole('button', { name: 'Revoke Kept key' }).click()
      await page.getByRole('dialog', { name: 'Revoke token' }).getByRole('button', { name: 'Cancel' }).click()
      expect((await api.call('GET', '/me', { key: kept })).status).toBe(200)
      await expect.poll(() => rowOf(page, 'Kept key').locator('.badge').textContent()).toBe('active')

      await rowOf(page, 'Deleted key').getByRole('button', { name: 'Delete Deleted key' }).click()
      const confirm = page.getByRole('dialog', { name: 'Delete token' })
      expect(await confirm.textContent()).toContain('Delete the token “Deleted key”')
      await confirm.getByRole('button', { name: 'Delete token' }).click()
      await expect.poll(() => rowOf(page, 'Deleted key').count()).toBe(0)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('rotates a token with a grace period: a new token shown once, the old one still working', async () => {
    const { page, context } = await openTab(browser)
    try {
      const { key: old } = await tenant.keyWithId({ name: 'Rotating key', scopes: ['agents:read'] })
      await signIn(page, consoleBase, await tenant.key({ name: 'Rotator' }))
      await rowOf(page, 'Rotating key').getByRole('button', { name: 'Rotate Rotating key' }).click()
      const dialog = page.getByRole('dialog', { name: 'Rotate token' })
      await dialog.getByLabel('Keep the old token working for').selectOption('86400')
      await dialog.getByRole('button', { name: 'Rotate' }).click()
      const secret = page.getByRole('dialog', { name: 'Your new API token' })
      await expect.poll(() => secret.isVisible()).toBe(true)
      const fresh = (await secret.locator('#secret-value').textContent())!
      expect(fresh).toMatch(/^pk_/)
      expect(fresh).not.toBe(old)
      expect((await api.call('GET', '/me', { key: fresh })).body.data.scopes).toEqual(['agents:read'])
      expect((await api.call('GET', '/me', { key: old })).status).toBe(200)
      await secret.getByRole('button', { name: 'Done' }).click()
      await expect.poll(() => rowOf(page, 'Rotating key').count()).toBe(2)
      // The old token says until when it keeps working; the new one has no expiry.
      const statuses = await rowOf(page, 'Rotating key').locator('td:nth-child(3)').allTextContents()
      expect(statuses.filter((text) => /^active until /.test(text))).toHaveLength(1)
      expect(statuses.filter((text) => text === 'active')).toHaveLength(1)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('keeps keyboard focus inside a dialog and gives it back to the button that opened it', async () => {
    const { page, context } = await openTab(browser)
    try {
      await signIn(page, consoleBase, await tenant.key({ name: 'Keyboard user' }))
      const opener = page.getByRole('button', { name: 'Generate API Token' })
      await opener.focus()
      await page.keyboard.press('Enter')
      const dialog = page.getByRole('dialog', { name: 'Generate API Token' })
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('token-name')
      // Backwards from the first field wraps to the dialog's last button; forwards from there wraps back.
      await page.keyboard.press('Shift+Tab')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Generate')
      await page.keyboard.press('Tab')
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('token-name')
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab')
        expect(await page.evaluate(() => !!document.activeElement?.closest('dialog'))).toBe(true)
      }
      await page.keyboard.press('Escape')
      await expect.poll(() => dialog.isVisible()).toBe(false)
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('generate')

      // The confirmation dialog too: it opens on Cancel, and Escape returns focus to the row's button.
      const { id } = await tenant.keyWithId({ name: 'Focus target', scopes: ['agents:read'] })
      await page.reload()
      await page.waitForSelector(`tr[data-key-id="${id}"]`)
      const revoke = rowOf(page, 'Focus target').getByRole('button', { name: 'Revoke Focus target' })
      await revoke.focus()
      await page.keyboard.press('Enter')
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel')
      await page.keyboard.press('Tab')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Revoke token')
      await page.keyboard.press('Tab')
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel')
      await page.keyboard.press('Escape')
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Revoke Focus target')
    } finally {
      await context.close()
    }
  }, 90_000)

  it('has no serious accessibility violations, at desktop and phone widths, dialogs open or not', async () => {
    for (const [width, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as const) {
      const { page, context } = await openTab(browser, viewport)
      try {
        await signIn(page, consoleBase, await tenant.key({ name: `Audited ${width}` }))
        await page.waitForSelector('#token-rows tr')
        expect(await seriousViolations(page)).toEqual([])
        await screenshot(page, `tokens-${width}`)
        expect(await page.evaluate(() => document.documentElement.scrollWidth), 'no sideways scrolling').toBeLessThanOrEqual(viewport.width)
        await page.getByRole('button', { name: 'Generate API Token' }).click()
        expect(await seriousViolations(page)).toEqual([])
        if (width === 'phone') await screenshot(page, 'tokens-generate-dialog-phone')
      } finally {
        await context.close()
      }
    }
  }, 120_000)
})
