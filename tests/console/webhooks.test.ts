import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Receiver } from '../harness/receiver.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { webhookSuite } from '../harness/webhooks.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn } from './browser.ts'

const suite = webhookSuite({ api: true })

/** The delivery log's rows as the page shows them: event, status, attempts, last answer. */
const logRows = (page: Page) =>
  page
    .locator('#delivery-rows tr')
    .evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('td')].slice(0, 5).map((td) => td.textContent)).map((c) => [c[0], c[2], c[3], c[4]]),
    )

describe.skipIf(!hasChromium)('the console’s webhooks page, in headless Chromium', () => {
  let browser: Browser
  let tenant: Tenant
  let receiver: Receiver
  let key: string

  beforeAll(async () => {
    browser = await launchBrowser()
    tenant = await createTenant()
    key = await tenant.key({ scopes: ['*'] })
    // Fails the first delivery, then takes every one.
    receiver = await suite.receiver((request) => (receiver.received.indexOf(request) === 0 ? { status: 503 } : { status: 200, body: 'ok' }))
  }, 60_000)
  afterAll(() => browser?.close())

  it('adds an endpoint showing its secret once, sends a test event, and retries the failed delivery', async () => {
    const { context, page, offline } = await openTab(browser)
    try {
      await signIn(page, `${suite.api.base}/console`, key, '/webhooks')
      expect(await page.locator('#endpoint-list').textContent()).toBe('No endpoints yet.')

      await page.getByRole('button', { name: 'Add endpoint' }).click()
      await page.getByLabel('URL').fill(receiver.url)
      await page.getByLabel('Events').fill('webhook.test')
      await page.getByLabel('Description (optional)').fill('Loopback receiver')
      await page.locator('#endpoint-form button[type="submit"]').click()
      const secret = page.locator('#endpoint-secret-value')
      await secret.waitFor()
      expect(await secret.textContent()).toMatch(/^whsec_[A-Za-z0-9+/]{20,}={0,2}$/)
      await page.getByRole('dialog', { name: "The endpoint's signing secret" }).getByRole('button', { name: 'Done' }).click()
      // The dialog's close event, which wipes the secret, comes in a task after the click.
      await expect.poll(() => secret.textContent()).toBe('')
      expect(await page.content()).not.toContain('whsec_')

      const endpoint = page.locator('#endpoint-list li.endpoint')
      await endpoint.waitFor()
      expect(await endpoint.locator('h3').textContent()).toBe(receiver.url)
      expect(await endpoint.locator('.success-rate').textContent()).toBe('No attempts')

      await page.getByRole('button', { name: `Send test event to ${receiver.url}` }).click()
      await page.waitForFunction(() => document.querySelectorAll('#delivery-rows tr[data-delivery-id]').length === 1)
      expect(await logRows(page)).toEqual([['webhook.test', 'pending', '0', '—']])

      // The receiver answers 503: the delivery fails and waits for its next retry.
      expect(await suite.dispatchAllDue()).toBe(1)
      expect(receiver.received).toHaveLength(1)
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.waitForFunction(() => document.querySelector('#delivery-rows .badge')?.textContent === 'failed')
      expect(await logRows(page)).toEqual([['webhook.test', 'failed', '1', 'Receiver answered 503']])
      expect(await endpoint.locator('.success-rate').textContent()).toBe('0.0% of 1 attempt')
      expect(await endpoint.locator('.badge').textContent()).toBe('failing')

      await page.getByRole('button', { name: /^Retry webhook\.test delivery/ }).click()
      await page.waitForFunction(() => document.querySelector('#delivery-rows .badge')?.textContent === 'pending')
      expect(await page.getByRole('button', { name: /^Retry/ }).count()).toBe(0)

      expect(await suite.dispatchAllDue()).toBe(1)
      expect(receiver.received).toHaveLength(2)
      await page.getByRole('button', { name: 'Refresh' }).click()
      await page.waitForFunction(() => document.querySelector('#delivery-rows .badge')?.textContent === 'delivered')
      expect(await logRows(page)).toEqual([['webhook.test', 'delivered', '2', 'HTTP 200']])
      expect(await endpoint.locator('.success-rate').textContent()).toBe('50.0% of 2 attempts')
      expect(await endpoint.locator('.p95-latency').textContent()).toMatch(/^\d[\d,]* ms$/)
      expect(await endpoint.locator('.badge').textContent()).toBe('healthy')
      expect(offline).toEqual([])
    } finally {
      await context.close()
    }
  }, 120_000)

  it('shows a read-only credential the endpoints, their health and the log, without a write action', async () => {
    const reader = await tenant.key({ scopes: ['*:read'] })
    const { context, page } = await openTab(browser)
    try {
      await signIn(page, `${suite.api.base}/console`, reader, '/webhooks')
      await page.locator('#delivery-rows tr[data-delivery-id]').first().waitFor()
      expect(await page.locator('#endpoint-list li.endpoint').count()).toBe(1)
      for (const name of ['Add endpoint', /^Send test event/, /^Retry/]) {
        expect(await page.getByRole('button', { name }).count()).toBe(0)
      }
      expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0)
    } finally {
      await context.close()
    }
  }, 60_000)

  it('renders at desktop and phone widths without serious accessibility violations', async () => {
    // A failed delivery in the log, so its retry button is checked too.
    receiver.answer = () => ({ status: 500 })
    const queued = await suite.api.call('POST', `/webhooks/${(await suite.api.call('GET', '/webhooks', { key })).body.data[0].id}/test`, {
      key,
    })
    expect(queued.status).toBe(202)
    await suite.dispatchAllDue()
    for (const [width, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as const) {
      const { context, page } = await openTab(browser, viewport)
      try {
        await signIn(page, `${suite.api.base}/console`, key, '/webhooks')
        await page
          .getByRole('button', { name: /^Retry/ })
          .first()
          .waitFor()
        await screenshot(page, `webhooks-${width}`)
        expect(await seriousViolations(page)).toEqual([])
      } finally {
        await context.close()
      }
    }
  }, 120_000)
})
