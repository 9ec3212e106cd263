import { clearSession, readSession, saveSession, type Session } from './session.ts'
import { settings, signInUrl } from './settings.ts'

/** An error answer of the API, `{ error: { message, code } }`, with its status. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The headers that carry the session's credential to the API. */
export function authHeaders(session: Session | null = readSession()): Record<string, string> {
  if (!session) return {}
  const headers: Record<string, string> = { authorization: `Bearer ${session.credential}` }
  if (session.orgId) headers['x-org-id'] = session.orgId
  return headers
}

/**
 * Calls the public API with the signed-in credential, as any client would: `await api('GET', '/agents')` is the
 * body's `data`. An error answer throws an ApiFailure; a 401 (the session ended, or the key was revoked) ends the
 * session and goes to sign-in.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await apiFetch(method, path, body)
  if (response.status === 204) return undefined as T
  const parsed = await response.json()
  return parsed.data as T
}

/** The same call, answering the raw Response (for streams, and for bodies that are not `{ data }`). */
export async function apiFetch(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const headers: Record<string, string> = { ...authHeaders(await currentSession()), ...extraHeaders }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(settings.apiBase + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (response.ok) return response
  const failure = await failureOf(response)
  if (response.status === 401 && settings.signedIn) {
    clearSession()
    location.assign(signInUrl())
  }
  throw failure
}

/** Renews a Supabase Auth session's access token in its last minute (Auth's refresh-token grant); keys never expire here. */
async function currentSession(): Promise<Session | null> {
  const session = readSession()
  if (!session?.refreshToken || !session.auth || !session.expiresAt || session.expiresAt - Date.now() / 1000 > 60) return session
  try {
    const response = await fetch(`${session.auth.url}/auth/v1/token?grant_type=refresh_token`, {
      method: 'POST',
      headers: { apikey: session.auth.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refreshToken }),
    })
    if (!response.ok) return session
    const renewed = await response.json()
    const next: Session = {
      ...session,
      credential: renewed.access_token,
      refreshToken: renewed.refresh_token,
      expiresAt: renewed.expires_at,
    }
    saveSession(next)
    return next
  } catch {
    // Auth unreachable: the current token is tried, and a 401 sends the user to sign in again.
    return session
  }
}

async function failureOf(response: Response): Promise<ApiFailure> {
  try {
    const { error } = await response.json()
    return new ApiFailure(response.status, error.code, error.message)
  } catch {
    return new ApiFailure(response.status, 'unknown', `The API answered ${response.status}.`)
  }
}

/** What /me says of the signed-in credential. */
export interface Me {
  credential: 'org_key' | 'agent_key' | 'agent_signature' | 'user'
  org: { id: string; name: string; plan: string }
  agent_id: string | null
  key: { id: string; mode: string | null; expires_at: string | null } | null
  user: { id: string; role: string } | null
  scopes: string[]
}

/**
 * Whether the credential's scopes cover `scope` (`agents:write`, `keys:read` …) as the API decides
 * (agentry.scope_allows): the scope itself, `*`, or `*:read` / `*:write`. The console hides what the API would
 * refuse, and the API refuses it anyway.
 */
export function allows(me: Me, scope: string): boolean {
  const access = scope.split(':')[1]
  return me.scopes.some((held) => held === scope || held === '*' || held === `*:${access}`)
}
