// How deliveries are signed. Two schemes side by side, so receivers can verify either way:
// - ours (as Commune documents it): `x-agentry-timestamp` (ms) and
//   `x-agentry-signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, keyed by the secret string;
// - Standard Webhooks (what Svix's and Resend's libraries verify): `webhook-id`, `webhook-timestamp` (s) and
//   `webhook-signature: v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>`, keyed by the
//   bytes the secret's base64 part encodes.
// While a rotated secret is still valid, each header carries one signature per secret (new first).
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'

const secretPrefix = 'whsec_'
const encoder = new TextEncoder()

// Shared with inboxes, whose `webhook` setting makes an endpoint too.
export { generateSecret } from '../_core/webhook-endpoints.ts'

export interface SignedMessage {
  eventId: string
  deliveryId: string
  attempt: number
  body: string
  /** The current secret first, then a rotated one still valid. */
  secrets: string[]
  at: Date
}

export function signatureHeaders(m: SignedMessage): Record<string, string> {
  const ms = String(m.at.getTime())
  const seconds = String(Math.floor(m.at.getTime() / 1000))
  const ours = m.secrets.map((s) => `v1=${toHex(hmac(sha256, encoder.encode(s), encoder.encode(`${ms}.${m.body}`)))}`)
  const standard = m.secrets.map((s) => `v1,${toBase64(hmac(sha256, standardKey(s), encoder.encode(`${m.eventId}.${seconds}.${m.body}`)))}`)
  return {
    'content-type': 'application/json',
    'user-agent': 'Agentry-Webhooks/1.0',
    'x-agentry-signature': ours.join(','),
    'x-agentry-timestamp': ms,
    'x-agentry-delivery-id': m.deliveryId,
    'x-agentry-attempt': String(m.attempt),
    'webhook-id': m.eventId,
    'webhook-timestamp': seconds,
    'webhook-signature': standard.join(' '),
  }
}

function standardKey(secret: string): Uint8Array {
  return fromBase64(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret)
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}
