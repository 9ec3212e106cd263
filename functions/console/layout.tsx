import type { Child } from 'hono/jsx'
import type { ConsolePage, PageContext } from './page.ts'

interface LayoutProps {
  page: ConsolePage
  pages: ConsolePage[]
  context: PageContext
  children: Child
}

/**
 * Every page's frame: a skip link, the header with the organisation and sign-out, the navigation, and the main
 * region. The page's script is the only script; settings reach it as data attributes on <body>, so the
 * Content-Security-Policy can forbid inline script.
 */
export function Layout({ page, pages, context, children }: LayoutProps) {
  const { consoleBase, apiBase } = context
  const signedIn = page.signedIn !== false
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${page.title} · Agentry console`}</title>
        <link rel="stylesheet" href={`${consoleBase}/assets/console.css`} />
        <script type="module" src={`${consoleBase}/assets/${page.script}.js`} />
      </head>
      <body data-api-base={apiBase} data-console-base={consoleBase} data-signed-in={signedIn ? 'required' : 'no'}>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={signedIn ? `${consoleBase}/tokens` : `${consoleBase}/sign-in`}>
            Agentry
          </a>
          {signedIn && (
            <div class="who">
              <span id="who-org" class="muted" />
              <button type="button" id="sign-out" class="button subtle">
                Sign out
              </button>
            </div>
          )}
        </header>
        <div class={signedIn ? 'frame' : 'frame single'}>
          {signedIn && (
            <nav aria-label="Console">
              <ul>
                {pages
                  .filter((p) => p.nav)
                  .map((p) => (
                    <li data-reads={p.reads}>
                      <a
                        href={consoleBase + p.path}
                        aria-current={page.path === p.path || page.path.startsWith(`${p.path}/`) ? 'page' : undefined}
                      >
                        {p.nav}
                      </a>
                    </li>
                  ))}
                <li>
                  <a href={`${apiBase}/docs`}>API reference</a>
                </li>
              </ul>
            </nav>
          )}
          <main id="main" tabindex={-1} data-pending={signedIn ? '' : undefined}>
            <div id="announcer" class="visually-hidden" role="status" aria-live="polite" />
            {children}
          </main>
        </div>
      </body>
    </html>
  )
}
