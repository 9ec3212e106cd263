// What every way of making a webhook endpoint shares: the webhooks routes, and an inbox's `webhook` setting,
// which becomes an ordinary endpoint filtered by that inbox.
import { ApiError } from './errors.ts'
import { readEnv } from './env.ts'
import { isPrivateAddress, privateNetworksAllowed } from './outbound.ts'

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export function generateSecret(): string {
  let text = ''
  for (const byte of crypto.getRandomValues(new Uint8Array(32))) text += String.fromCharCode(byte)
  return `whsec_${btoa(text)}`
}

/**
 * An endpoint whose URL names a private address outright is refused when it is saved (unless the operator
 * allows private networks); a host name is checked again, address by address, on every delivery. `field`
 * names the URL in the request body.
 */
export function refuseUnreachableUrl(url: string, field = 'url') {
  if (privateNetworksAllowed(readEnv)) return
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  const literal = /^[\d.]+$/.test(host) || host.includes(':')
  if ((literal && isPrivateAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
    throw new ApiError(
      'validation_failed',
      `Invalid request: ${field}: ${host} is a private, loopback or link-local address, which webhooks may not reach.`,
      {
        fields: [{ field, message: 'private, loopback or link-local address' }],
      },
    )
  }
}
