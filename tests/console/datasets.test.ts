import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant } from '../harness/tenants.ts'
import { desktop, hasChromium, launchBrowser, openTab, phone, screenshot, seriousViolations, signIn, waitUntilShown } from './browser.ts'

/** A tab signed in with `key` through the sign-in page, showing `path` below /console. */
async function consoleTab(browser: Browser, base: string, key: string, path: string, viewport = desktop) {
  const tab = await openTab(browser, viewport)
  const errors: string[] = []
  tab.page.on('pageerror', (error) => errors.push(error.message))
  await signIn(tab.page, `${base}/console`, key, path.split('?')[0])
  if (path.includes('?')) {
    await tab.page.goto(`${base}/console${path}`)
    await waitUntilShown(tab.page)
  }
  return { ...tab, errors }
}

describe.skipIf(!hasChromium)('the console’s datasets pages, in headless Chromium', () => {
  let api: TestApi
  let browser: Browser
  let key: string
  let dataset: { id: string; name: string }

  beforeAll(async () => {
    api = await startApi()
    browser = await launchBrowser()
    const tenant = await createTenant()
    key = await tenant.key({ scopes: ['*'] })
    const created = await api.call('POST', '/datasets', {
      key,
      body: {
        name: 'Leads',
        description: 'Inbound leads',
        columns: [
          { name: 'name', type: 'text' },
          { name: 'status', type: 'text' },
          { name: 'score', type: 'number' },
        ],
      },
    })
    expect(created.status).toBe(201)
    dataset = created.body.data
    const rows = Array.from({ length: 30 }, (_, i) => ({ name: `Lead ${i + 1}`, status: i % 2 ? 'lost' : 'active', score: i * 3 }))
    expect((await api.call('POST', `/datasets/${dataset.id}/rows`, { key, body: rows })).status).toBe(201)
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    await api?.close()
  })

  it('lists the datasets with their row counts, linking to their rows', async () => {
    const { context, page } = await consoleTab(browser, api.base, key, '/datasets')
    try {
      const link = page.getByRole('link', { name: 'Leads' })
      expect((await page.locator('#dataset-rows tr').first().locator('td').allTextContents()).slice(0, 3)).toEqual([
        'Leads',
        'name, status, score',
        '30',
      ])
      await link.click()
      await page.waitForURL((url) => url.pathname.endsWith(dataset.id))
      await waitUntilShown(page)
      expect(new URL(page.url()).pathname).toBe(new URL(`${api.base}/console/datasets/${dataset.id}`).pathname)
      expect(await page.locator('#row-total').textContent()).toBe('30 rows in all')
    } finally {
      await context.close()
    }
  }, 60_000)

  it('filters the rows and shows the total change, the page and the same query as curl and supabase-js', async () => {
    const { context, page, errors, offline } = await consoleTab(browser, api.base, key, `/datasets/${dataset.id}`)
    try {
      expect(await page.locator('#row-total').textContent()).toBe('30 rows in all')
      expect(await page.locator('#page-position').textContent()).toBe('Rows 1–25 of 30')

      await page.getByLabel('Column of condition 1').fill('status')
      await page.getByLabel('Operator of condition 1').selectOption('eq')
      await page.getByLabel('Value of condition 1').fill('active')
      await page.getByRole('button', { name: 'Add a condition' }).click()
      await page.getByLabel('Column of condition 2').fill('score')
      await page.getByLabel('Operator of condition 2').selectOption('gte')
      await page.getByLabel('Value of condition 2').fill('30')
      await page.getByLabel('Rows per page').selectOption('10')
      await page.getByRole('button', { name: 'Apply filters' }).click()
      await page.waitForFunction(() => document.getElementById('row-total')?.textContent === '10 rows match')

      // Lead 11, 13 … 29: active, with scores 30 to 84.
      expect(await page.locator('#row-body tr td:nth-child(2)').allTextContents()).toEqual(
        Array.from({ length: 10 }, (_, i) => `Lead ${11 + 2 * i}`),
      )
      expect(await page.locator('#page-position').textContent()).toBe('Rows 1–10 of 10')
      expect(await page.locator('#next-page').isHidden()).toBe(true)

      const curl = (await page.locator('#curl-snippet').textContent()) ?? ''
      expect(curl).toBe(
        `curl '${api.base}/datasets/${dataset.id}/rows?status=eq.active&score=gte.30&limit=10&offset=0' \\\n` +
          '  -H "Authorization: Bearer $AGENTRY_KEY"',
      )
      // The command asks the API what the page showed.
      const shown = await fetch(curl.split("'")[1], { headers: { authorization: `Bearer ${key}` } })
      expect((await shown.json()).data.total).toBe(10)
      expect(await page.locator('#js-snippet').textContent()).toBe(
        [
          "import { createClient } from '@supabase/supabase-js'",
          '',
          `const db = createClient("${api.base.replace(/\/v1$/, '')}", process.env.AGENTRY_KEY)`,
          `const { data, count } = await db.from("Leads").select('*', { count: 'exact' })`,
          '  .eq("status", "active")',
          '  .gte("score", 30)',
          '  .range(0, 9)',
        ].join('\n'),
      )

      // One condition fewer: more rows match, over two pages.
      await page.getByRole('button', { name: 'Remove this condition' }).nth(1).click()
      await page.getByRole('button', { name: 'Apply filters' }).click()
      await page.waitForFunction(() => document.getElementById('row-total')?.textContent === '15 rows match')
      expect(await page.locator('#page-position').textContent()).toBe('Rows 1–10 of 15')
      await page.getByRole('link', { name: 'Next page' }).click()
      await page.waitForFunction(() => document.getElementById('page-position')?.textContent === 'Rows 11–15 of 15')
      expect(await page.locator('#row-body tr td:nth-child(2)').allTextContents()).toEqual([
        'Lead 21',
        'Lead 23',
        'Lead 25',
        'Lead 27',
        'Lead 29',
      ])
      expect(errors).toEqual([])
      expect(offline).toEqual([])
    } finally {
      await context.close()
    }
  }, 90_000)

  it('says why a filter was refused instead of showing rows', async () => {
    const { context, page } = await consoleTab(browser, api.base, key, `/datasets/${dataset.id}?column=score&operator=gt&value=many`)
    try {
      await page.waitForSelector('#filter-error:not([hidden])')
      expect(await page.locator('#filter-error').textContent()).toMatch(/^The filters were not accepted: /)
      expect(await page.locator('#row-total').textContent()).toBe('')
    } finally {
      await context.close()
    }
  }, 60_000)

  it('renders both pages at desktop and phone widths without serious accessibility violations', async () => {
    const pages = [
      { name: 'datasets', path: '/datasets', ready: '#dataset-rows a' },
      { name: 'dataset-rows', path: `/datasets/${dataset.id}?column=status&operator=eq&value=active`, ready: '#row-body tr' },
    ]
    for (const { name, path, ready } of pages) {
      for (const [width, viewport] of [
        ['desktop', desktop],
        ['phone', phone],
      ] as const) {
        const { context, page, errors } = await consoleTab(browser, api.base, key, path, viewport)
        try {
          await page.waitForSelector(ready)
          await screenshot(page, `${name}-${width}`)
          expect(await seriousViolations(page)).toEqual([])
          expect(errors).toEqual([])
        } finally {
          await context.close()
        }
      }
    }
  }, 180_000)
})
