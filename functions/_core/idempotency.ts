// Idempotency-Key, as Stripe does it: the first request with a key is answered and its answer kept for a
// day; a retry with the same key and the same request gets that answer again without redoing the work; the
// same key with a different request is a 409, and so is a retry while the first is still being answered.
// A key belongs to the credential that sent it (the API key, or the signed-in user): another credential of
// the same organisation using the same string starts a request of its own.
import { sha256 } from '@noble/hashes/sha2.js'
import { databaseNow } from './clock.ts'
import { withTenant, type TenantClaims, type Tx } from './db.ts'
import { ApiError } from './errors.ts'

export interface StoredAnswer {
  status: number
  body: unknown
}

export type Idempotency =
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'first'; complete(answer: StoredAnswer): Promise<void>; abandon(): Promise<void> }

const keyShape = /^[\x21-\x7e]{1,255}$/

/**
 * Claims `key` for this request (route and body), or finds the answer a previous one got. `mayRequest` runs
 * first, in the same transaction: the caller's own check that this request is still theirs to make (that
 * they can reach the resource), so that a stored answer is never handed to a caller who could not ask again.
 */
export async function claimIdempotencyKey(
  claims: TenantClaims,
  key: string,
  route: string,
  request: unknown,
  mayRequest: (tx: Tx) => Promise<void>,
): Promise<Idempotency> {
  if (!keyShape.test(key)) throw new ApiError('bad_request', 'Idempotency-Key must be 1–255 visible ASCII characters.')
  const caller = claims.key_id ?? claims.sub
  if (!caller) throw new Error('an Idempotency-Key needs a caller: the claims name neither a key nor a user')
  const hash = Array.from(sha256(new TextEncoder().encode(`${route}\n${JSON.stringify(request)}`)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
  const found = await withTenant(claims, async (tx) => {
    await mayRequest(tx)
    await tx`
      delete from agentry.idempotent_requests
      where org_id = ${claims.org_id} and caller_id = ${caller} and key = ${key} and created_at < coalesce(${databaseNow()}::timestamptz, now()) - interval '24 hours'`
    const [inserted] = await tx`
      insert into agentry.idempotent_requests (org_id, caller_id, key, route, request_hash)
      values (${claims.org_id}, ${caller}, ${key}, ${route}, ${hash})
      on conflict (org_id, caller_id, key) do nothing returning key`
    if (inserted) return null
    const [row] = await tx<{ route: string; request_hash: string; response: StoredAnswer | null }[]>`
      select route, request_hash, response from agentry.idempotent_requests
      where org_id = ${claims.org_id} and caller_id = ${caller} and key = ${key}`
    return row
  })
  if (!found) {
    return {
      kind: 'first',
      complete: (answer) =>
        withTenant(claims, async (tx) => {
          await tx`
            update agentry.idempotent_requests set response = ${tx.json(answer as never)}
            where org_id = ${claims.org_id} and caller_id = ${caller} and key = ${key}`
        }),
      abandon: () =>
        withTenant(claims, async (tx) => {
          await tx`
            delete from agentry.idempotent_requests
            where org_id = ${claims.org_id} and caller_id = ${caller} and key = ${key} and response is null`
        }),
    }
  }
  if (found.route !== route || found.request_hash !== hash) {
    throw new ApiError('conflict', 'This Idempotency-Key was used for a different request; use a new key for a new request.')
  }
  if (!found.response) throw new ApiError('conflict', 'A request with this Idempotency-Key is still being answered; retry in a moment.')
  return { kind: 'replay', answer: found.response }
}
