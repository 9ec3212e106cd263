import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { readEnv } from './env.ts'
import { isUuid } from './uuid.ts'

export type UserTokenResult = { ok: true; userId: string } | { ok: false; reason: string }

let jwks: { url: string; getKey: JWTVerifyGetKey } | undefined

function verificationKey(): Uint8Array | JWTVerifyGetKey | null {
  const secret = readEnv('SUPABASE_JWT_SECRET')
  if (secret) return new TextEncoder().encode(secret)
  const supabaseUrl = readEnv('SUPABASE_URL')
  const url = readEnv('SUPABASE_JWKS_URL') ?? (supabaseUrl ? `${supabaseUrl}/auth/v1/.well-known/jwks.json` : undefined)
  if (!url) return null
  if (jwks?.url !== url) jwks = { url, getKey: createRemoteJWKSet(new URL(url)) }
  return jwks.getKey
}

/**
 * Who may have issued an access token (SUPABASE_JWT_ISSUER, comma-separated for several). By default the
 * project's auth server, `${SUPABASE_URL}/auth/v1`, or the one beside SUPABASE_JWKS_URL; with neither set,
 * the Supabase CLI's local auth server, at the address `npm start` serves the API on too.
 */
function expectedIssuers(): string[] {
  const configured = readEnv('SUPABASE_JWT_ISSUER')
  if (configured)
    return configured
      .split(',')
      .map((issuer) => issuer.trim())
      .filter(Boolean)
  const supabaseUrl = readEnv('SUPABASE_URL')
  if (supabaseUrl) return [`${supabaseUrl.replace(/\/+$/, '')}/auth/v1`]
  const jwksUrl = readEnv('SUPABASE_JWKS_URL')
  if (jwksUrl) return [jwksUrl.replace(/\/\.well-known\/jwks\.json$/, '')]
  return [localIssuer]
}

export const localIssuer = 'http://127.0.0.1:54321/auth/v1'

/**
 * Verifies a Supabase Auth access token (HS256 shared secret, or the project's JWKS for asymmetric keys):
 * its signature, audience, issuer, and an expiry that must be present and not past.
 */
export async function verifyUserToken(token: string): Promise<UserTokenResult> {
  const key = verificationKey()
  if (!key)
    return { ok: false, reason: 'Dashboard sign-in is not configured on this server (set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL).' }
  const issuers = expectedIssuers()
  const checks = { audience: 'authenticated', issuer: issuers, requiredClaims: ['exp'] }
  try {
    const { payload } =
      typeof key === 'function' ? await jwtVerify(token, key, checks) : await jwtVerify(token, key, { ...checks, algorithms: ['HS256'] })
    if (payload.role !== 'authenticated' || typeof payload.sub !== 'string' || !isUuid(payload.sub)) {
      return { ok: false, reason: "The access token is not a signed-in user's token." }
    }
    return { ok: true, userId: payload.sub }
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'The access token has expired.' }
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'exp')
        return { ok: false, reason: 'The access token has no expiry ("exp" claim): only tokens that expire are accepted.' }
      if (error.claim === 'iss') {
        return {
          ok: false,
          reason:
            `The access token was not issued by this project's auth server (its "iss" claim must be ` +
            `${issuers.map((i) => `"${i}"`).join(' or ')}).`,
        }
      }
      return { ok: false, reason: `The access token's "${error.claim}" claim is not valid here.` }
    }
    return { ok: false, reason: 'The access token is invalid: its signature or format could not be verified.' }
  }
}
