// The signed-in credential lives in this tab's sessionStorage only: closing the tab signs out, and no cookie
// carries it, so no other site can make the browser send it.

export interface Session {
  /** What goes after "Bearer ": an API key, or a Supabase Auth access token. */
  credential: string
  /** For a user in several organisations: the one the console works in (sent as X-Org-Id). */
  orgId?: string
  /** A Supabase Auth session's refresh token and expiry (seconds since the epoch), to renew the access token. */
  refreshToken?: string
  expiresAt?: number
  /** Where it was issued: the project's URL and anon key (public values), to renew it at. */
  auth?: { url: string; anonKey: string }
}

const storageKey = 'agentry.console.session'

export function readSession(): Session | null {
  try {
    const saved = JSON.parse(sessionStorage.getItem(storageKey) ?? 'null') as Session | null
    return saved && typeof saved.credential === 'string' ? saved : null
  } catch {
    return null
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(storageKey, JSON.stringify(session))
}

export function clearSession(): void {
  sessionStorage.removeItem(storageKey)
}
