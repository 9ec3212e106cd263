import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { swaggerUiVersion } from '../../functions/_core/swagger-ui.generated.ts'
import { readInstalledSwaggerUi } from '../../scripts/lib/swagger-ui-assets.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { startDenoEntry, type DenoEntry } from '../harness/deno.ts'

const installed = readInstalledSwaggerUi()
const chromium = '/usr/bin/chromium'

/** Every URL the page loads or links to (src and href attributes), resolved against the page's own URL. */
function referencedUrls(html: string, pageUrl: string): URL[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((m) => new URL(m[1], pageUrl))
}

async function expectOfflineDocs(pageUrl: string) {
  const page = await fetch(pageUrl)
  expect(page.status).toBe(200)
  expect(page.headers.get('content-type')).toMatch(/^text\/html/)
  const html = await page.text()
  expect(html).not.toMatch(/https?:\/\//)

  const urls = referencedUrls(html, pageUrl)
  expect(urls.map((u) => u.pathname.split('/').pop()).sort()).toEqual(['swagger-ui-bundle.js', 'swagger-ui.css'])
  for (const url of urls) {
    expect(url.origin).toBe(new URL(pageUrl).origin)
    const res = await fetch(url)
    expect(res.status).toBe(200)
    const name = url.pathname.split('/').pop() as 'swagger-ui.css' | 'swagger-ui-bundle.js'
    expect(res.headers.get('content-type')).toBe(name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(await res.text()).toBe(installed.files[name])
  }
  // The bundle's banner points at its licence notices beside it.
  const notices = await fetch(
    new URL(
      'swagger-ui-bundle.js.LICENSE.txt',
      urls.find((u) => u.pathname.endsWith('.js')),
    ),
  )
  expect(notices.status).toBe(200)
  expect(await notices.text()).toBe(installed.files['swagger-ui-bundle.js.LICENSE.txt'])

  // The page asks for the document next to it.
  expect(html).toContain("url: './openapi.json'")
  expect((await fetch(new URL('./openapi.json', pageUrl))).status).toBe(200)
}

describe('the /docs page', () => {
  it('embeds the same swagger-ui-dist version as the one installed (run `npm run docs:assets` after upgrading it)', () => {
    expect(swaggerUiVersion).toBe(installed.version)
  })

  describe('on Node', () => {
    let api: TestApi
    beforeAll(async () => {
      api = await startApi()
    })
    afterAll(() => api.close())

    it('loads only assets the API serves itself, with their content types and the installed files as bodies', async () => {
      await expectOfflineDocs(`${api.base}/docs`)
    })

    // Debian's chromium, where installed, driven by playwright-core (no browser download). Every host but
    // loopback is refused, so the page renders with no network, as on an air-gapped server. Swagger UI draws
    // a long operation list only where the window is (150 entries or more), so the test scrolls through it.
    it.skipIf(!fs.existsSync(chromium))(
      'renders every operation in headless Chromium with the network blocked',
      async () => {
        const { chromium: browserType } = await import('playwright-core')
        const browser = await browserType.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu'] })
        try {
          const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } })
          const offline: string[] = []
          await page.route('**/*', (route) => {
            const url = new URL(route.request().url())
            if (url.hostname === '127.0.0.1') return route.continue()
            offline.push(url.href)
            return route.abort()
          })
          await page.goto(`${api.base}/docs`)
          await page.waitForSelector('.opblock-summary-path', { timeout: 30_000 })
          const rendered = new Set<string>()
          for (let step = 0; step < 400; step++) {
            for (const p of await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? ''))) {
              rendered.add(p)
            }
            const atEnd = await page.evaluate(() => {
              window.scrollBy(0, window.innerHeight / 2)
              return window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2
            })
            await page.waitForTimeout(50)
            if (atEnd && step > 0) {
              for (const p of await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? ''))) {
                rendered.add(p)
              }
              break
            }
          }
          const documented = Object.keys((await api.call('GET', '/openapi.json')).body.paths)
          expect(documented.length).toBeGreaterThan(10)
          expect([...rendered].sort()).toEqual([...documented].sort())
          expect(offline).toEqual([])
        } finally {
          await browser.close()
        }
      },
      90_000,
    )

    it('answers an asset of another swagger-ui version with 404 not_found', async () => {
      const res = await fetch(`${api.base}/docs/swagger-ui-dist@0.0.1/swagger-ui.css`)
      expect(res.status).toBe(404)
      expect((await res.json()).error.code).toBe('not_found')
    })
  })

  describe('under Deno, as the Edge Function', () => {
    let entry: DenoEntry
    beforeAll(async () => {
      entry = await startDenoEntry('supabase/functions/api/index.ts', { DATABASE_URL: inject('databaseUrl') }, async (at) => {
        if (!(await fetch(`${at}/api/v1/openapi.json`)).ok) throw new Error('not ready')
      })
    }, 90_000)
    afterAll(() => entry?.stop())

    it('serves the same page and assets at the path Supabase hands the function', async () => {
      await expectOfflineDocs(`${entry.origin}/api/v1/docs`)
    })
  })
})
