import { hex } from '../_core/agent-signature.ts'
import { hashKey } from '../_core/keys.ts'

/** How long a signup's token and challenge are good for. */
export const signupLifetimeSeconds = 900

const random = () => hex(crypto.getRandomValues(new Uint8Array(32)))

/**
 * A new signup's token (stored only as its SHA-256) and challenge. The challenge is prefixed so that a
 * signature made for it can never pass as a request signature (those start AGENTRY-AGENT-V1).
 */
export function newSignup(): { token: string; tokenHash: Uint8Array; challenge: string } {
  const token = `agst_${random()}`
  return { token, tokenHash: hashKey(token), challenge: `agentry-agent-signup:${random()}` }
}

export const signupTokenHash = (token: string): Uint8Array => hashKey(token)
