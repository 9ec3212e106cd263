import { ApiError, notFound } from '../_core/errors.ts'
import type { Tx } from '../_core/db.ts'
import { findKey, scopesNotHeld, type KeyRow } from './queries.ts'

/**
 * The key a caller means to rotate, revoke or delete, once it is clear the caller may: it exists for them
 * (404 otherwise) and holds no scope they lack (403 naming it). The policies refuse such a change too, but
 * would answer as if the key did not exist.
 */
export async function keyWithinReach(
  tx: Tx,
  id: string,
  callerScopes: string[],
  doing: 'rotating' | 'revoking' | 'deleting',
): Promise<KeyRow> {
  const key = await findKey(tx, id)
  if (!key) throw notFound('API key')
  const missing = await scopesNotHeld(tx, key.scopes, callerScopes)
  if (missing.length > 0) {
    throw new ApiError('insufficient_scope', `This key holds the scope "${missing[0]}", which the credential ${doing} it does not hold.`)
  }
  return key
}
