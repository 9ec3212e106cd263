import { readEnv } from '../_core/env.ts'

/** What the browser needs to sign a user in with the project's Supabase Auth: public values only. */
export interface AuthSettings {
  /** The project's URL, whose /auth/v1 answers email and password sign-in. */
  url: string
  /** The anon (publishable) key Supabase Auth asks every browser request for. */
  anonKey: string
}

/** Email and password sign-in, when the server knows the project's Auth (SUPABASE_URL and its anon key). */
export function authSettings(): AuthSettings | null {
  const url = readEnv('SUPABASE_URL')
  const anonKey = readEnv('SUPABASE_ANON_KEY') ?? readEnv('SUPABASE_PUBLISHABLE_KEY')
  return url && anonKey ? { url: url.replace(/\/+$/, ''), anonKey } : null
}

const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]'])

/**
 * The demo organisation's key for one-click sign-in. `npm start` sets AGENTRY_CONSOLE_DEV_KEY only when it binds
 * the server to loopback; the request must also have been addressed to a loopback name, so a page on another
 * site that rebinds its own hostname to 127.0.0.1 is never handed the key.
 */
export function devKeyFor(requestUrl: string, hostHeader: string | undefined): string | null {
  const key = readEnv('AGENTRY_CONSOLE_DEV_KEY')
  if (!key || !hostHeader) return null
  try {
    const named = new URL(`http://${hostHeader}`).hostname
    return loopbackHosts.has(named) && loopbackHosts.has(new URL(requestUrl).hostname) ? key : null
  } catch {
    return null
  }
}
