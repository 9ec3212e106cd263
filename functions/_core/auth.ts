import type { MiddlewareHandler } from 'hono'
import { authDatabase, type TenantClaims } from './db.ts'
import { ApiError } from './errors.ts'
import { failedAuthentications, sourceAddress } from './failed-auth.ts'
import { verifyUserToken } from './jwt.ts'
import { hashKey, isKeyShaped, type KeyMode } from './keys.ts'
import type { Scope } from './scopes.ts'
import type { ApiEnv } from './app.ts'

/** Who is calling: an API key (organisation token or agent key) or a signed-in dashboard user. */
export interface Principal {
  kind: 'org_key' | 'agent_key' | 'user'
  orgId: string
  orgName: string
  plan: string
  agentId: string | null
  keyId: string | null
  userId: string | null
  role: string | null
  mode: KeyMode | null
  scopes: string[]
  expiresAt: Date | null
  rateLimit: RateLimitState
  /** The organisation's plan's cap on its requests in flight in one API process. */
  maxConcurrentRequests: number
}

export interface RateLimitState {
  limit: number
  remaining: number
  /** Unix seconds at which the current window ends. */
  reset: number
}

export function claimsOf(p: Principal): TenantClaims {
  return { role: 'authenticated', sub: p.userId, org_id: p.orgId, agent_id: p.agentId, key_id: p.keyId, scopes: p.scopes }
}

const unauthorized = (message: string) => new ApiError('unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' })
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type AuthRow = {
  outcome: string
  org_id: string | null
  org_name: string | null
  plan: string | null
  scopes: string[] | null
  rate_limit: number | null
  rate_remaining: number | null
  rate_reset: Date | null
  retry_after: number | null
  max_concurrent_requests: number | null
}

/**
 * Authenticates the request and checks the route's scope, in one database round trip: the SQL function
 * verifies the credential, counts the request against the organisation's rate limit, bumps the key's usage
 * counters and checks the scope. `scope: null` admits any valid credential. An address that keeps failing
 * to authenticate is refused before any of that (see failed-auth.ts).
 */
export function authenticate(scope: Scope | null): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const failures = failedAuthentications()
    const address = sourceAddress(c)
    const wait = failures.blockedFor(address)
    if (wait > 0) {
      throw new ApiError('rate_limited', `Too many failed authentications from this address; retry in ${wait} s.`, undefined, { 'Retry-After': String(wait) })
    }
    let principal: Principal
    try {
      principal = await identify(c.req.header('authorization'), c.req.header('x-org-id'), scope)
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthorized') failures.recordFailure(address)
      throw error
    }
    c.set('principal', principal)
    for (const [name, value] of Object.entries(rateLimitHeaders(principal.rateLimit))) c.header(name, value)
    await next()
  }
}

async function identify(header: string | undefined, orgHeader: string | undefined, scope: Scope | null): Promise<Principal> {
  if (header === undefined) throw unauthorized('Missing Authorization header: send "Authorization: Bearer <api key>".')
  const match = /^Bearer +(\S+)\s*$/i.exec(header)
  if (!match) throw unauthorized('Malformed Authorization header: expected "Bearer <api key>".')
  const token = match[1]
  if (isKeyShaped(token)) return authenticateKey(token, scope)
  if (jwtShape.test(token)) return authenticateUser(token, orgHeader, scope)
  throw unauthorized(/^(pk|ck)_/.test(token)
    ? 'Malformed API key: expected "pk_" or "ck_live_"/"ck_test_" followed by 32 hex characters.'
    : 'Malformed credential: expected an API key ("pk_…", "ck_live_…", "ck_test_…") or a Supabase access token.')
}

function rateLimitHeaders(rl: RateLimitState): Record<string, string> {
  return { 'X-RateLimit-Limit': String(rl.limit), 'X-RateLimit-Remaining': String(rl.remaining), 'X-RateLimit-Reset': String(rl.reset) }
}

async function authenticateKey(raw: string, scope: Scope | null): Promise<Principal> {
  const [row] = await authDatabase()<(AuthRow & { key_id: string; agent_id: string | null; mode: KeyMode | null; expires_at: Date | null })[]>`
    select * from agentry.authenticate_key(${hashKey(raw)}, ${scope})`
  switch (row.outcome) {
    case 'unknown':
      throw unauthorized('Invalid API key: no such key exists.')
    case 'revoked':
      throw unauthorized('This API key has been revoked.')
    case 'expired':
      throw unauthorized(`This API key expired at ${row.expires_at?.toISOString()}.`)
  }
  const principal: Principal = {
    kind: row.agent_id ? 'agent_key' : 'org_key',
    orgId: row.org_id!,
    orgName: row.org_name!,
    plan: row.plan!,
    agentId: row.agent_id,
    keyId: row.key_id,
    userId: null,
    role: null,
    mode: row.mode,
    scopes: row.scopes!,
    expiresAt: row.expires_at,
    rateLimit: rateLimitOf(row),
    maxConcurrentRequests: row.max_concurrent_requests!,
  }
  refuseIfLimitedOrOutOfScope(row, principal, scope)
  return principal
}

async function authenticateUser(token: string, orgHeader: string | undefined, scope: Scope | null): Promise<Principal> {
  if (orgHeader !== undefined && !uuidShape.test(orgHeader)) {
    throw new ApiError('bad_request', 'Malformed X-Org-Id header: expected an organisation id (UUID).')
  }
  const verified = await verifyUserToken(token)
  if (!verified.ok) throw unauthorized(verified.reason)
  const [row] = await authDatabase()<(AuthRow & { role: string | null })[]>`
    select * from agentry.authenticate_member(${verified.userId}, ${orgHeader ?? null}, ${scope})`
  if (row.outcome === 'not_member') throw unauthorized('This user is not a member of the organisation.')
  if (row.outcome === 'org_required') {
    throw new ApiError('bad_request', 'This user belongs to several organisations: name one in the X-Org-Id header.')
  }
  const principal: Principal = {
    kind: 'user',
    orgId: row.org_id!,
    orgName: row.org_name!,
    plan: row.plan!,
    agentId: null,
    keyId: null,
    userId: verified.userId,
    role: row.role,
    mode: null,
    scopes: row.scopes!,
    expiresAt: null,
    rateLimit: rateLimitOf(row),
    maxConcurrentRequests: row.max_concurrent_requests!,
  }
  refuseIfLimitedOrOutOfScope(row, principal, scope)
  return principal
}

function rateLimitOf(row: AuthRow): RateLimitState {
  return { limit: row.rate_limit!, remaining: row.rate_remaining!, reset: Math.floor(row.rate_reset!.getTime() / 1000) }
}

function refuseIfLimitedOrOutOfScope(row: AuthRow, principal: Principal, scope: Scope | null) {
  const rl = principal.rateLimit
  const headers = rateLimitHeaders(rl)
  if (row.outcome === 'rate_limited') {
    throw new ApiError(
      'rate_limited',
      `Rate limit of ${rl.limit} requests per minute exceeded for this organisation; retry in ${row.retry_after} s.`,
      undefined,
      { ...headers, 'Retry-After': String(row.retry_after) },
    )
  }
  if (row.outcome === 'insufficient_scope') {
    const who = principal.kind === 'user' ? 'Your role in this organisation lacks' : 'This API key lacks'
    throw new ApiError('insufficient_scope', `${who} the required scope "${scope}".`, undefined, headers)
  }
}
