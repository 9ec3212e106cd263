import { ApiError } from '../_core/errors.ts'
import { isPrivateAddress, privateNetworksAllowed } from '../_core/outbound.ts'
import { readEnv } from '../_core/env.ts'

/**
 * An endpoint whose URL names a private address outright is refused when it is saved (unless the operator
 * allows private networks); a host name is checked again, address by address, on every delivery.
 */
export function refuseUnreachableUrl(url: string) {
  if (privateNetworksAllowed(readEnv)) return
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  const literal = /^[\d.]+$/.test(host) || host.includes(':')
  if ((literal && isPrivateAddress(host)) || host === 'localhost' || host.endsWith('.localhost')) {
    throw new ApiError(
      'validation_failed',
      `Invalid request: url: ${host} is a private, loopback or link-local address, which webhooks may not reach.`,
      {
        fields: [{ field: 'url', message: 'private, loopback or link-local address' }],
      },
    )
  }
}
