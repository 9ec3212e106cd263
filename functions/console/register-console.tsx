import type { Context } from 'hono'
import type { Api } from '../_core/server.ts'
import { consoleScripts } from './assets.generated.ts'
import { Layout } from './layout.tsx'
import type { ConsolePage } from './page.ts'
import { agentPage } from './pages/agent.tsx'
import { agentsPage } from './pages/agents.tsx'
import { signInPage } from './pages/sign-in.tsx'
import { tokensPage } from './pages/tokens.tsx'
import { authSettings } from './settings.ts'
import { consoleStyles } from './styles.ts'
import { dataPageStyles } from './data-pages-styles.ts'
import { datasetPage } from './pages/dataset.tsx'
import { datasetsPage } from './pages/datasets.tsx'
import { usagePage } from './pages/usage.tsx'
import { webhooksPage } from './pages/webhooks.tsx'

/** The console's pages, in navigation order. A new page is declared in pages/ and listed here. */
export const consolePages: ConsolePage[] = [
  signInPage,
  tokensPage,
  agentsPage,
  agentPage,
  datasetsPage,
  datasetPage,
  webhooksPage,
  usagePage,
]

/**
 * The web console at /console: server-rendered pages and their scripts, served by the API so it runs wherever the
 * API does. These are not operations of the API (no credential, nothing in /openapi.json): each page's script
 * calls the public API with the credential the user signed in with, and gets no more rights than it has.
 */
export function registerConsole(v1: Api) {
  v1.get('/console', (c) => c.redirect(`${consoleBase(c)}/tokens`, 302))
  for (const page of consolePages) {
    v1.get(`/console${page.path}`, (c) => {
      const context = {
        consoleBase: consoleBase(c),
        apiBase: consoleBase(c).slice(0, -'/console'.length),
        params: c.req.param() as Record<string, string>,
        request: { url: c.req.url, host: c.req.header('host') },
      }
      const html = `<!doctype html>${(
        <Layout page={page} pages={consolePages} context={context}>
          {page.body(context)}
        </Layout>
      )}`
      return c.html(html, 200, pageHeaders())
    })
  }
  v1.get('/console/assets/console.css', (c) => c.body(consoleStyles + dataPageStyles, 200, assetHeaders('text/css; charset=utf-8')))
  v1.get('/console/assets/:name{[a-z0-9-]+\\.js}', (c) => {
    const script = consoleScripts[c.req.param('name').slice(0, -3)]
    if (script === undefined) return c.notFound()
    return c.body(script, 200, assetHeaders('text/javascript; charset=utf-8'))
  })
}

/** The console's path as this request reached it: /api/v1/console on Supabase, /functions/v1/api/v1/console locally. */
function consoleBase(c: Context): string {
  const path = c.req.path
  return path.slice(0, path.indexOf('/console') + '/console'.length)
}

/**
 * Pages: never cached (the sign-in page may carry the dev key), never framed, and no script but the console's own.
 * The page's script may reach the API beside it and the project's Supabase Auth.
 */
function pageHeaders(): Record<string, string> {
  const auth = authSettings()
  return {
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self'${auth ? ` ${new URL(auth.url).origin}` : ''}`,
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  }
}

function assetHeaders(type: string): Record<string, string> {
  // Revalidated on every load: a redeployed console is seen at once, and the files are small.
  return { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }
}
