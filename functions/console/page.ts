import type { Child } from 'hono/jsx'
import type { Scope } from '../_core/scopes.ts'

/** What a page's body is rendered with. */
export interface PageContext {
  /** The console's own URL path (…/api/v1/console), for links between pages. */
  consoleBase: string
  /** The API's URL path (…/api/v1), which the page's script calls with the user's credential. */
  apiBase: string
  /** The path's parameters (`/agents/:id` gives `id`). */
  params: Record<string, string>
  /** The request's URL and Host header (the sign-in page offers the dev key only on loopback). */
  request: { url: string; host: string | undefined }
}

/**
 * One console page: where it is, what it is called, its server-rendered body (markup only: every datum is fetched
 * by its script with the signed-in credential) and the script from functions/console/client/pages/<script>.ts.
 */
export interface ConsolePage {
  /** Below /console, Hono's syntax: `/tokens`, `/agents/:id`. */
  path: string
  title: string
  /** Its label in the navigation; pages without one (a detail page, sign-in) are reached by links. */
  nav?: string
  /** The scope whose read the navigation entry stands for: shown to credentials that may read it. */
  reads?: Scope
  /** False only for the sign-in page; every other page sends a visitor without a session to sign in. */
  signedIn?: boolean
  script: string
  body: (context: PageContext) => Child
}

export const definePage = (page: ConsolePage): ConsolePage => page
