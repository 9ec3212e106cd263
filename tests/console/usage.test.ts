import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn, waitUntilShown } from './browser.ts'

const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)

describe.skipIf(!hasChromium)('the console’s usage and cost page, in headless Chromium', () => {
  let api: TestApi
  let browser: Browser
  let tenant: Tenant
  let key: string

  beforeAll(async () => {
    api = await startApi()
    browser = await launchBrowser()
    tenant = await createTenant()
    key = await tenant.key({ scopes: ['*:read'] })
    // Two days with model calls: agent A on both, agent B and background work (no agent) on the later one.
    const calls = [
      { agent: tenant.agent.id, model: 'gpt-4o-mini', prompt: 100, completion: 50, cost: 0.25, at: `${day(2)}T10:00:00Z` },
      { agent: tenant.agent.id, model: 'gpt-4o-mini', prompt: 100, completion: 50, cost: 0.25, at: `${day(2)}T11:00:00Z` },
      { agent: tenant.agent.id, model: 'gpt-4o', prompt: 300, completion: 100, cost: 1, at: `${day(0)}T00:00:01Z` },
      { agent: tenant.otherAgent.id, model: 'gpt-4o', prompt: 200, completion: 0, cost: 0.5, at: `${day(0)}T00:00:02Z` },
      { agent: null, model: 'text-embedding-3-small', prompt: 1000, completion: 0, cost: 0.01, at: `${day(0)}T00:00:03Z` },
    ]
    for (const c of calls) {
      await serviceSql()`insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd, created_at)
        values (${tenant.org.id}, ${c.agent}, 'fake', ${c.model}, ${c.prompt}, ${c.completion}, ${c.cost}, ${c.at})`
    }
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await api?.close()
  })

  it('charts requests, tokens and cost per day split by agent, with the totals and a table of the same numbers', async () => {
    const { context, page, offline } = await openTab(browser)
    try {
      await signIn(page, `${api.base}/console`, key, '/usage')
      await page.locator('#requests-chart svg').waitFor()
      expect(await page.locator('#usage-totals dt').allTextContents()).toEqual(['Requests', 'Tokens', 'Cost'])
      expect(await page.locator('#usage-totals dd').allTextContents()).toEqual(['5', '1,900', '$2.01'])

      const bars = await page
        .locator('#requests-chart rect[data-day]')
        .evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-day'), r.getAttribute('data-series'), r.getAttribute('data-value')]))
      expect(bars).toEqual([
        [day(2), 'Agent A', '2'],
        [day(0), 'Agent A', '1'],
        [day(0), 'Agent B', '1'],
        [day(0), 'No agent', '1'],
      ])
      const chart = page.getByRole('img', { name: new RegExp(`^Requests per day, by agent, ${day(13)} to ${day(0)}`) })
      expect(await chart.count()).toBe(1)
      expect(await page.locator('#requests-svg-desc').textContent()).toBe(
        `5 requests from ${day(13)} to ${day(0)}, split into 3 series (Agent A, Agent B, No agent); the most on ${day(0)}: 3.`,
      )
      expect(await page.locator('#cost-legend li').allTextContents()).toEqual(['Agent A', 'Agent B', 'No agent'])

      await page.getByText('Tokens per day as a table').click()
      const table = page.locator('#tokens-table table')
      expect(await table.locator('thead th').allTextContents()).toEqual(['Day', 'No agent', 'Agent A', 'Agent B', 'Total'])
      expect(await table.locator('tbody tr').count()).toBe(14)
      expect(await table.locator('tbody tr').last().locator('th, td').allTextContents()).toEqual([day(0), '1,000', '400', '200', '1,600'])
      expect(await table.locator('tbody tr').nth(11).locator('th, td').allTextContents()).toEqual([day(2), '0', '300', '0', '300'])
      expect(offline).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it('splits the same days by model when asked', async () => {
    const { context, page } = await openTab(browser)
    try {
      await signIn(page, `${api.base}/console`, key, '/usage')
      await page.getByLabel('Split by', { exact: true }).selectOption('model')
      await page.getByLabel('Period', { exact: true }).selectOption('7')
      await page.getByRole('button', { name: 'Show', exact: true }).click()
      await page.waitForURL((url) => url.searchParams.get('split') === 'model')
      await waitUntilShown(page)
      await page.locator('#cost-chart svg').waitFor()
      expect(await page.locator('#cost-legend li').allTextContents()).toEqual(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'])
      expect(await page.locator('#cost-chart rect[data-day]').count()).toBe(3)
      expect(await page.locator('#cost-table tbody tr').count()).toBe(7)
    } finally {
      await context.close()
    }
  }, 90_000)

  it('renders at desktop and phone widths without serious accessibility violations', async () => {
    for (const [width, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as const) {
      const { context, page } = await openTab(browser, viewport)
      try {
        await signIn(page, `${api.base}/console`, key, '/usage')
        await page.locator('#cost-chart svg').waitFor()
        await screenshot(page, `usage-${width}`)
        expect(await seriousViolations(page)).toEqual([])
      } finally {
        await context.close()
      }
    }
  }, 120_000)
})
