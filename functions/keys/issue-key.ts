import type { Db } from '../_core/db.ts'
import { generateKey, hashKey } from '../_core/keys.ts'
import { insertKey, type KeyRow, type NewKey } from './queries.ts'

/** Creates a key: a fresh random secret whose SHA-256 alone is stored. Returns the raw key, once. */
export async function issueKey(db: Db, key: Omit<NewKey, 'prefix' | 'hash'>): Promise<KeyRow & { key: string }> {
  const { raw, prefix } = generateKey(key.agentId ? 'agent' : 'org', key.mode)
  const row = await insertKey(db, { ...key, prefix, hash: hashKey(raw) })
  return { ...row, key: raw }
}
