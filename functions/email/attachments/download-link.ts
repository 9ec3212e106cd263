// Download links: a short-lived HS256 JWT (jose) naming one attachment of one organisation, checked by the
// download route, which takes no API key. The key is ATTACHMENT_URL_SECRET; unset, a random secret made once
// per database and kept in agentry.service_secrets (no tenant role may read it), so every process serving
// one database signs and checks alike, with nothing to configure.
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import { now } from '../../_core/clock.ts'
import type { Db } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { ApiError } from '../../_core/errors.ts'

const audience = 'agentry:attachment-download'
const storedSecretName = 'attachment_url'

let stored: { db: Db; key: Promise<Uint8Array> } | undefined

async function signingKey(db: Db): Promise<Uint8Array> {
  const configured = readEnv('ATTACHMENT_URL_SECRET')
  if (configured) return new TextEncoder().encode(configured)
  if (stored?.db !== db) stored = { db, key: storedSecret(db) }
  const key = stored.key
  key.catch(() => {
    if (stored?.key === key) stored = undefined
  })
  return key
}

async function storedSecret(db: Db): Promise<Uint8Array> {
  const fresh = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => b.toString(16).padStart(2, '0')).join('')
  // Whichever process comes first makes it; the rest read what it made.
  await db`insert into agentry.service_secrets (name, value) values (${storedSecretName}, ${fresh}) on conflict (name) do nothing`
  const [row] = await db<{ value: string }[]>`select value from agentry.service_secrets where name = ${storedSecretName}`
  return new TextEncoder().encode(row.value)
}

export interface DownloadGrant {
  attachmentId: string
  orgId: string
}

/** A token letting its holder download the attachment until `expiresAt`. */
export async function signDownload(db: Db, grant: DownloadGrant, expiresAt: Date): Promise<string> {
  return new SignJWT({ org: grant.orgId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(grant.attachmentId)
    .setAudience(audience)
    .setIssuedAt(Math.floor(now() / 1000))
    .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
    .sign(await signingKey(db))
}

/** The grant a token carries: 410 once it has expired, 403 when it is not one of ours or not for this attachment. */
export async function checkDownload(db: Db, token: string, attachmentId: string): Promise<DownloadGrant> {
  const invalid = new ApiError('insufficient_scope', 'This download link is not valid for this attachment.')
  let payload: { sub?: unknown; org?: unknown }
  try {
    // The signature is checked before the claims, so only a token we signed can be told it has expired.
    ;({ payload } = await jwtVerify(token, await signingKey(db), {
      algorithms: ['HS256'],
      audience,
      currentDate: new Date(now()),
    }))
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw new ApiError('gone', 'This download link has expired; ask for a new one.')
    if (error instanceof joseErrors.JOSEError) throw invalid
    throw error
  }
  if (payload.sub !== attachmentId || typeof payload.org !== 'string') throw invalid
  return { attachmentId, orgId: payload.org }
}
