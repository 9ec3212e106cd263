import type { Context, MiddlewareHandler } from 'hono'
import { databaseNow, now } from './clock.ts'
import { readEnv } from './env.ts'
import type { Tenant, TenantClaims } from './db.ts'
import { ApiError } from './errors.ts'
import { failedAuthentications, sourceAddress } from './failed-auth.ts'
import { verifyUserToken } from './jwt.ts'
import { hashKey, isKeyShaped, type KeyMode } from './keys.ts'
import {
  agentSignatureWindowSeconds,
  agentTimestampHeader,
  canonicalAgentRequest,
  isAgentScheme,
  parseAgentAuthorization,
  signedPath,
  timestampSkewSeconds,
  verifyAgentSignature,
} from './agent-signature.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import { credentials, rateLeases, requestPathSql, usageCounters, type Credential } from './request-path.ts'
import type { RateDecision } from './rate-lease.ts'
import { dataDeleteScope, sections, type Scope } from './scopes.ts'
import type { ApiEnv } from './server.ts'
import { unrefTimer } from './timers.ts'
import { isUuid } from './uuid.ts'

/**
 * Who is calling: an API key (organisation token or agent key), a self-registered agent signing its requests
 * (agent-signature.ts), or a signed-in dashboard user.
 */
export interface Principal {
  kind: 'org_key' | 'agent_key' | 'agent_signature' | 'user'
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
  /** What its tenant transactions run with: one frozen object per credential, so its text is built once. */
  claims: TenantClaims
}

export interface RateLimitState {
  limit: number
  remaining: number
  /** Unix seconds at which the current window ends. */
  reset: number
}

export function claimsOf(p: Principal): TenantClaims {
  return p.claims
}

/** What a request's tenant transactions run as: its caller's claims, and for a write the audit entry they record. */
export function tenantOf(c: Context<ApiEnv>): Tenant {
  const write = c.get('write')
  return write ? { ...c.get('principal').claims, write } : c.get('principal').claims
}

/** The claims RLS reads for a credential, frozen: withTenant may keep what it derives from them. */
function frozenClaims(userId: string | null, orgId: string, agentId: string | null, keyId: string | null, scopes: string[]): TenantClaims {
  return Object.freeze({
    role: 'authenticated',
    sub: userId,
    org_id: orgId,
    agent_id: agentId,
    key_id: keyId,
    scopes: Object.freeze([...scopes]) as string[],
  })
}

const unauthorized = (message: string) => new ApiError('unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' })
const bearerPattern = /^Bearer +(\S+)\s*$/i
const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * Authenticates the request, counts it against the organisation's rate limit and the key's usage, and
 * checks the route's scope; for a credential this process has seen, without a database round trip (see
 * request-path.ts). `scope: null` admits any valid credential. An address that keeps failing to
 * authenticate is refused before any of that (see failed-auth.ts).
 */
export function authenticate(scope: Scope | null): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const failures = failedAuthentications()
    const wait = failures.refusing ? failures.blockedFor(sourceAddress(c)) : 0
    if (wait > 0) {
      throw new ApiError('rate_limited', `Too many failed authentications from this address; retry in ${wait} s.`, undefined, {
        'Retry-After': String(wait),
      })
    }
    let principal: Principal
    try {
      // A credential this process holds is admitted without a single await: no promise per step.
      const identified = identify(c, c.req.header('authorization'), scope)
      principal = identified instanceof Promise ? await identified : identified
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthorized') failures.recordFailure(sourceAddress(c))
      throw error
    }
    c.set('principal', principal)
    c.set('scope', scope)
    const { limit, remaining, reset } = principal.rateLimit
    c.header('X-RateLimit-Limit', String(limit))
    c.header('X-RateLimit-Remaining', String(remaining))
    c.header('X-RateLimit-Reset', String(reset))
    await next()
  }
}

function identify(c: Context<ApiEnv>, header: string | undefined, scope: Scope | null): Principal | Promise<Principal> {
  if (header === undefined) throw unauthorized('Missing Authorization header: send "Authorization: Bearer <api key>".')
  const match = bearerPattern.exec(header)
  if (!match) {
    // Asked only once the header is not Bearer: a key's request pays nothing for the Agent scheme.
    if (isAgentScheme(header)) return authenticateAgent(c, header, scope)
    throw unauthorized('Malformed Authorization header: expected "Bearer <api key>".')
  }
  const token = match[1]
  if (isKeyShaped(token)) return authenticateKey(token, scope)
  if (jwtShape.test(token)) return authenticateUser(token, c.req.header('x-org-id'), scope)
  throw unauthorized(
    /^(pk|ck)_/.test(token)
      ? 'Malformed API key: expected "pk_" or "ck_live_"/"ck_test_" followed by 32 hex characters.'
      : 'Malformed credential: expected an API key ("pk_…", "ck_live_…", "ck_test_…") or a Supabase access token.',
  )
}

function rateLimitHeaders(rl: RateLimitState): Record<string, string> {
  return { 'X-RateLimit-Limit': String(rl.limit), 'X-RateLimit-Remaining': String(rl.remaining), 'X-RateLimit-Reset': String(rl.reset) }
}

// The route scopes a credential may be asked for: checked against its scopes by the database once, when
// the credential is looked up, so that a cached credential answers any route's scope without asking again.
const routeScopes: string[] = ['*', '*:read', '*:write', ...sections.flatMap((s) => [`${s}:read`, `${s}:write`]), dataDeleteScope]

type KeyRow = {
  outcome: 'ok' | 'unknown' | 'revoked' | 'expired'
  key_id: string
  org_id: string
  agent_id: string | null
  mode: KeyMode | null
  scopes: string[]
  expires_at: Date | null
  org_name: string
  plan: string
  rate_limit: number
  max_concurrent_requests: number
  allowed_scopes: string[]
}

type MemberRow = {
  outcome: 'ok' | 'not_member' | 'org_required'
  org_id: string
  role: string
  scopes: string[]
  org_name: string
  plan: string
  rate_limit: number
  max_concurrent_requests: number
  allowed_scopes: string[]
}

/**
 * A key's credential: from this process's cache when it holds it (no round trip, no await), otherwise
 * looked up and kept. The expiry is checked on every request.
 */
function authenticateKey(raw: string, scope: Scope | null): Principal | Promise<Principal> {
  const credential = credentialOfKey(hashKey(raw))
  return credential instanceof Promise ? credential.then((loaded) => admitKey(loaded, scope)) : admitKey(credential, scope)
}

/** The credential of the key with this SHA-256: the cached one, else looked up (unknown or revoked: refused). */
function credentialOfKey(hash: Uint8Array): Credential | Promise<Credential> {
  const cacheKey = `k:${hex(hash)}`
  return credentials().get(cacheKey) ?? loadKey(hash, cacheKey)
}

function admitKey(credential: Credential, scope: Scope | null): Principal | Promise<Principal> {
  refuseExpired(credential)
  return admit(credential, scope, null)
}

function refuseExpired(credential: Credential): void {
  if (credential.expiresAt !== null && credential.expiresAt <= now()) {
    throw unauthorized(`This API key expired at ${new Date(credential.expiresAt).toISOString()}.`)
  }
}

/** Looks a key up by its SHA-256 (agentry.verify_key, a read) and keeps its credential; refuses any other key. */
async function loadKey(hash: Uint8Array, cacheKey: string): Promise<Credential> {
  const { value, answer } = await credentials().load(cacheKey, async () => {
    const [row] = await requestPathSql()<KeyRow[]>`select * from agentry.verify_key(${hash}, ${routeScopes}, ${databaseNow()})`
    return { value: row.outcome === 'ok' ? keyCredential(row) : null, answer: row }
  })
  switch (answer.outcome) {
    case 'unknown':
      throw unauthorized('Invalid API key: no such key exists.')
    case 'revoked':
      throw unauthorized('This API key has been revoked.')
    case 'expired':
      throw unauthorized(`This API key expired at ${answer.expires_at?.toISOString()}.`)
  }
  return value!
}

function keyCredential(row: KeyRow): Credential {
  return {
    kind: row.agent_id ? 'agent_key' : 'org_key',
    orgId: row.org_id,
    orgName: row.org_name,
    plan: row.plan,
    agentId: row.agent_id,
    keyId: row.key_id,
    userId: null,
    role: null,
    mode: row.mode,
    scopes: row.scopes,
    expiresAt: row.expires_at?.getTime() ?? null,
    rateLimit: row.rate_limit,
    maxConcurrentRequests: row.max_concurrent_requests,
    allowedScopes: new Set(row.allowed_scopes),
    claims: frozenClaims(null, row.org_id, row.agent_id, row.key_id, row.scopes),
  }
}

async function authenticateUser(token: string, orgHeader: string | undefined, scope: Scope | null): Promise<Principal> {
  const { credential, userId } = await credentialOfUser(token, orgHeader)
  return admit(credential, scope, userId)
}

/** A signed-in user's credential in the organisation named (or their only one): the token verified, the membership cached. */
async function credentialOfUser(token: string, orgHeader: string | undefined): Promise<{ credential: Credential; userId: string }> {
  if (orgHeader !== undefined && !isUuid(orgHeader)) {
    throw new ApiError('bad_request', 'Malformed X-Org-Id header: expected an organisation id (UUID).')
  }
  const verified = await verifyUserToken(token)
  if (!verified.ok) throw unauthorized(verified.reason)
  const userId = verified.userId
  const cacheKey = `u:${userId}:${orgHeader?.toLowerCase() ?? ''}`
  const cache = credentials()
  const cached = cache.get(cacheKey)
  if (cached) return { credential: cached, userId }
  const { value, answer } = await cache.load(cacheKey, async () => {
    const [row] = await requestPathSql()<MemberRow[]>`select * from agentry.verify_member(${userId}, ${orgHeader ?? null}, ${routeScopes})`
    return { value: row.outcome === 'ok' ? memberCredential(row, userId) : null, answer: row }
  })
  if (answer.outcome === 'not_member') throw unauthorized('This user is not a member of the organisation.')
  if (answer.outcome === 'org_required') {
    throw new ApiError('bad_request', 'This user belongs to several organisations: name one in the X-Org-Id header.')
  }
  return { credential: value!, userId }
}

function memberCredential(row: MemberRow, userId: string): Credential {
  return {
    kind: 'user',
    orgId: row.org_id,
    orgName: row.org_name,
    plan: row.plan,
    agentId: null,
    keyId: null,
    userId,
    role: row.role,
    mode: null,
    scopes: row.scopes,
    expiresAt: null,
    rateLimit: row.rate_limit,
    maxConcurrentRequests: row.max_concurrent_requests,
    allowedScopes: new Set(row.allowed_scopes),
    claims: frozenClaims(userId, row.org_id, null, null, row.scopes),
  }
}

type AgentRow = {
  outcome: 'ok' | 'unknown'
  org_id: string
  public_key: Uint8Array
  scopes: string[]
  org_name: string
  plan: string
  rate_limit: number
  max_concurrent_requests: number
  allowed_scopes: string[]
}

const agentUnauthorized = (message: string) => new ApiError('unauthorized', message, undefined, { 'WWW-Authenticate': 'Agent' })

/**
 * A self-registered agent's signed request (agent-signature.ts): its timestamp within the window, its
 * signature over this very request by the agent's registered key, and a signature not seen before. The
 * agent acts as itself (its id in the claims) with every scope of the organisation it created.
 */
async function authenticateAgent(c: Context<ApiEnv>, header: string, scope: Scope | null): Promise<Principal> {
  const parsed = parseAgentAuthorization(header)
  if (!parsed) {
    throw agentUnauthorized('Malformed Authorization header: expected "Agent <agent id>:<base64 Ed25519 signature of the request>".')
  }
  const timestamp = c.req.header(agentTimestampHeader)
  const skew = timestampSkewSeconds(timestamp, now())
  if (timestamp === undefined || skew === null) {
    throw agentUnauthorized('A signed request needs the X-Agent-Timestamp header: the unix time, in seconds, it was signed at.')
  }
  if (skew > agentSignatureWindowSeconds) {
    throw agentUnauthorized(
      `X-Agent-Timestamp is ${Math.round(skew)} s away from the server's clock; a signature is accepted within ${agentSignatureWindowSeconds} s of its timestamp.`,
    )
  }
  const credential = await agentCredential(parsed.agentId)
  // A clone, so that a route reading the raw request body still can.
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? new Uint8Array() : new Uint8Array(await c.req.raw.clone().arrayBuffer())
  const message = canonicalAgentRequest({ method: c.req.method, path: signedPath(c.req.url), timestamp, body })
  if (!verifyAgentSignature(message, parsed.signature, credential.publicKey!)) {
    throw agentUnauthorized(
      "The signature does not match this request: sign the method, path and query, X-Agent-Timestamp and the body's SHA-256 with the registered key.",
    )
  }
  const expiresAt = new Date((Number(timestamp) + agentSignatureWindowSeconds + 1) * 1000)
  const [seen] = await requestPathSql()<{ fresh: boolean }[]>`
    select agentry.record_agent_signature(${sha256(parsed.signature)}, ${expiresAt}, ${databaseNow()}) as fresh`
  if (!seen.fresh) throw agentUnauthorized('This signature has been used already: sign each request anew, with its own timestamp.')
  return admit(credential, scope, null)
}

async function agentCredential(agentId: string): Promise<Credential> {
  const cacheKey = `a:${agentId}`
  const cached = credentials().get(cacheKey)
  if (cached) return cached
  const { value, answer } = await credentials().load(cacheKey, async () => {
    const [row] = await requestPathSql()<AgentRow[]>`select * from agentry.verify_agent(${agentId}, ${routeScopes})`
    return { value: row.outcome === 'ok' ? agentSignatureCredential(agentId, row) : null, answer: row }
  })
  if (answer.outcome === 'unknown') throw agentUnauthorized('Unknown agent: no agent with this id has registered a public key.')
  return value!
}

function agentSignatureCredential(agentId: string, row: AgentRow): Credential {
  return {
    kind: 'agent_signature',
    orgId: row.org_id,
    orgName: row.org_name,
    plan: row.plan,
    agentId,
    keyId: null,
    userId: null,
    role: null,
    mode: null,
    scopes: row.scopes,
    expiresAt: null,
    rateLimit: row.rate_limit,
    maxConcurrentRequests: row.max_concurrent_requests,
    allowedScopes: new Set(row.allowed_scopes),
    claims: frozenClaims(null, row.org_id, agentId, null, row.scopes),
    publicKey: new Uint8Array(row.public_key),
  }
}

/**
 * Counts the request against the organisation's limit (leased tokens, rate-lease.ts) and, for a key, in
 * its usage; then checks the route's scope. Requests refused for scope count too; rate-limited ones not.
 */
function admit(credential: Credential, scope: Scope | null, userId: string | null): Principal | Promise<Principal> {
  const decision = rateLeases().take(credential.orgId, credential.rateLimit)
  return decision instanceof Promise
    ? decision.then((d) => admitted(credential, scope, userId, d))
    : admitted(credential, scope, userId, decision)
}

function admitted(credential: Credential, scope: Scope | null, userId: string | null, decision: RateDecision): Principal {
  const rateLimit: RateLimitState = { limit: decision.limit, remaining: decision.remaining, reset: decision.reset }
  const headers = rateLimitHeaders(rateLimit)
  if (!decision.allowed) {
    throw new ApiError(
      'rate_limited',
      `Rate limit of ${decision.limit} requests per minute exceeded for this organisation; retry in ${decision.retryAfter} s.`,
      undefined,
      { ...headers, 'Retry-After': String(decision.retryAfter) },
    )
  }
  if (credential.keyId) usageCounters().record(credential.keyId)
  if (scope !== null && !credential.allowedScopes.has(scope)) throw scopeRefusal(credential, scope, headers)
  return {
    kind: credential.kind,
    orgId: credential.orgId,
    orgName: credential.orgName,
    plan: credential.plan,
    agentId: credential.agentId,
    keyId: credential.keyId,
    userId,
    role: credential.role,
    mode: credential.mode,
    scopes: credential.scopes,
    expiresAt: credential.expiresAt === null ? null : new Date(credential.expiresAt),
    rateLimit,
    maxConcurrentRequests: credential.maxConcurrentRequests,
    claims: credential.claims,
  }
}

function scopeRefusal(credential: Credential, scope: Scope, headers?: Record<string, string>): ApiError {
  const who = credential.kind === 'user' ? 'Your role in this organisation lacks' : 'This API key lacks'
  return new ApiError('insufficient_scope', `${who} the required scope "${scope}".`, undefined, headers)
}

/**
 * Asks again whether the request's credential still admits its route, for a request that outlives its
 * admission (a stream): refused once the key is revoked or expired, the user's token expired or their
 * membership ended, the agent's registration is gone, or the route's scope was taken away. Counts no request,
 * and costs no round trip while this process's cache holds the credential (a change forgets it).
 */
export async function recheckCredential(c: Context<ApiEnv>): Promise<void> {
  const header = c.req.header('authorization') ?? ''
  const bearer = bearerPattern.exec(header)?.[1]
  let credential: Credential
  if (bearer !== undefined && isKeyShaped(bearer)) {
    credential = await credentialOfKey(hashKey(bearer))
    refuseExpired(credential)
  } else if (bearer !== undefined) {
    credential = (await credentialOfUser(bearer, c.req.header('x-org-id'))).credential
  } else {
    const parsed = parseAgentAuthorization(header)
    if (!parsed) throw agentUnauthorized('The request no longer carries a credential.')
    credential = await agentCredential(parsed.agentId)
  }
  const scope = c.get('scope')
  if (scope !== null && scope !== undefined && !credential.allowedScopes.has(scope)) throw scopeRefusal(credential, scope)
}

/**
 * Rechecks the request's credential every STREAM_RECHECK_MS (default 5 s) while a stream lasts, and calls
 * `refused` once, with the reason, when it no longer admits the route. A check that fails for another cause
 * (the database out of reach a moment) is tried again next time. Returns the function that stops watching.
 */
export function watchCredential(c: Context<ApiEnv>, refused: (reason: ApiError) => void): () => void {
  let checking = false
  const timer = setInterval(() => {
    if (checking) return
    checking = true
    recheckCredential(c).then(
      () => {
        checking = false
      },
      (error) => {
        checking = false
        if (!(error instanceof ApiError) || (error.code !== 'unauthorized' && error.code !== 'insufficient_scope')) return
        clearInterval(timer)
        refused(error)
      },
    )
  }, streamRecheckMs())
  unrefTimer(timer)
  return () => clearInterval(timer)
}

function streamRecheckMs(): number {
  const ms = Number(readEnv('STREAM_RECHECK_MS') ?? 5000)
  return Number.isFinite(ms) && ms >= 10 ? ms : 5000
}

function hex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16)
  return s
}
