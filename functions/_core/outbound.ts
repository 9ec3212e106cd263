// Outbound HTTP to addresses our users give us (webhook endpoints), with the guard every such request needs:
// no private, loopback or link-local address, unless the operator allows it. Resolving a host name and
// connecting belong to the runtime, so a Transport does both (checking the very address it connects to,
// which is what defeats DNS rebinding); this module holds what every transport shares.

export interface OutboundRequest {
  url: string
  headers: Record<string, string>
  body: string
  timeoutMs: number
}

export interface OutboundResponse {
  status: number
  headers: Headers
  /** The first 2 KB of the body, as text. */
  body: string
}

/** Sends one POST. Redirects are not followed (a 3xx is the answer). Throws OutboundError when no answer came. */
export type Transport = (request: OutboundRequest) => Promise<OutboundResponse>

export type OutboundFailure = 'blocked' | 'timeout' | 'network'

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message)
  }
}

/** How much of a response body is kept. */
export const keptBodyBytes = 2048

/** Whether outbound requests may reach private networks (WEBHOOK_ALLOW_PRIVATE=true: development and tests). */
export function privateNetworksAllowed(env: (name: string) => string | undefined): boolean {
  return env('WEBHOOK_ALLOW_PRIVATE') === 'true'
}

/**
 * True for an address no outbound request may reach by default: loopback, private, link-local, carrier-grade
 * NAT, unspecified, multicast, reserved and documentation ranges, in IPv4 and IPv6 (including IPv4 mapped
 * into IPv6). Anything that is not an IP address is refused too.
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = parseIPv4(address)
  if (v4) return privateIPv4(v4)
  const v6 = parseIPv6(address)
  if (!v6) return true
  const [a, b] = v6
  const mapped = v6.slice(0, 5).every((w) => w === 0) && v6[5] === 0xffff
  if (mapped || (v6.slice(0, 6).every((w) => w === 0) && (v6[6] !== 0 || v6[7] > 1))) {
    return privateIPv4([v6[6] >> 8, v6[6] & 0xff, v6[7] >> 8, v6[7] & 0xff])
  }
  if (v6.every((w) => w === 0)) return true // ::
  if (v6.slice(0, 7).every((w) => w === 0) && v6[7] === 1) return true // ::1
  if ((a & 0xfe00) === 0xfc00) return true // fc00::/7 unique local
  if ((a & 0xffc0) === 0xfe80) return true // fe80::/10 link-local
  if ((a & 0xffc0) === 0xfec0) return true // fec0::/10 site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return true // ff00::/8 multicast
  if (a === 0x2001 && b === 0x0db8) return true // 2001:db8::/32 documentation
  if (a === 0x0064 && b === 0xff9b) return privateIPv4([v6[6] >> 8, v6[6] & 0xff, v6[7] >> 8, v6[7] & 0xff]) // NAT64
  return false
}

function privateIPv4([a, b, c]: number[]): boolean {
  return (
    a === 0 || // 0.0.0.0/8
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a >= 224 // multicast, reserved, broadcast
  )
}

function parseIPv4(text: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text)
  if (!m) return null
  const parts = m.slice(1).map(Number)
  return parts.every((p) => p <= 255) ? parts : null
}

function parseIPv6(text: string): number[] | null {
  let t = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (!/^[0-9a-f:.]+$/i.test(t) || !t.includes(':')) return null
  // A trailing dotted IPv4 (::ffff:10.0.0.1) is the last two words.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(t)
  if (dotted) {
    const v4 = parseIPv4(dotted[1])
    if (!v4) return null
    t = `${t.slice(0, -dotted[1].length)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`
  }
  const halves = t.split('::')
  if (halves.length > 2) return null
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN)))
  const head = parse(halves[0])
  const rest = halves.length === 2 ? parse(halves[1]) : []
  if ([...head, ...rest].some(Number.isNaN)) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  if (head.length + rest.length > 7) return null
  return [...head, ...Array(8 - head.length - rest.length).fill(0), ...rest]
}
