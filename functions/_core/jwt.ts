import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose'
import { readEnv } from './env.ts'

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

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Verifies a Supabase Auth access token (HS256 shared secret, or the project's JWKS for asymmetric keys). */
export async function verifyUserToken(token: string): Promise<UserTokenResult> {
  const key = verificationKey()
  if (!key) return { ok: false, reason: 'Dashboard sign-in is not configured on this server (set SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL).' }
  try {
    const { payload } = typeof key === 'function'
      ? await jwtVerify(token, key, { audience: 'authenticated' })
      : await jwtVerify(token, key, { audience: 'authenticated', algorithms: ['HS256'] })
    if (payload.role !== 'authenticated' || typeof payload.sub !== 'string' || !uuidPattern.test(payload.sub)) {
      return { ok: false, reason: 'The access token is not a signed-in user\'s token.' }
    }
    return { ok: true, userId: payload.sub }
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'The access token has expired.' }
    if (error instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `The access token's "${error.claim}" claim is not valid here.` }
    return { ok: false, reason: 'The access token is invalid: its signature or format could not be verified.' }
  }
}
