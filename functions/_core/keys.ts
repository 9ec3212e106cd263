import { sha256 } from '@noble/hashes/sha2.js'

/** API key format: `pk_<32 hex>` for organisation tokens, `ck_live_<32 hex>` / `ck_test_<32 hex>` for agent keys. */
export type KeyKind = 'org' | 'agent'
export type KeyMode = 'live' | 'test'

const keyPattern = /^(pk_|ck_live_|ck_test_)([0-9a-f]{32})$/

export function generateKey(kind: KeyKind, mode: KeyMode | null): { raw: string; prefix: string } {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  const type = kind === 'org' ? 'pk_' : `ck_${mode ?? 'live'}_`
  return { raw: type + secret, prefix: type + secret.slice(0, 8) }
}

/** True when the string has the shape of one of our keys; says nothing about whether it exists. */
export function isKeyShaped(raw: string): boolean {
  return keyPattern.test(raw)
}

/**
 * The stored form of a key. Synchronous and in-process: Web Crypto's digest is asynchronous and, on Node,
 * costs a thread-pool round trip per request, which showed up as a tenth of the API's CPU.
 */
export function hashKey(raw: string): Uint8Array {
  return sha256(new TextEncoder().encode(raw))
}
