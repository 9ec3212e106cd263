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
 * NAT, unspecified, multicast, reserved and documentation ranges, in IPv4 and IPv6. An IPv6 address that
 * carries an IPv4 one (mapped, translated, compatible, 6to4, NAT64) is judged by the IPv4 address it carries,
 * since that is where a gateway on the way would send it. Anything that is not an IP address is refused too.
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = parseIPv4(address)
  if (v4) return privateIPv4(v4)
  const v6 = parseIPv6(address)
  if (!v6) return true
  const embedded = embeddedIPv4(v6)
  if (embedded) return privateIPv4(embedded)
  const [a, b] = v6
  if (v6.every((w) => w === 0)) return true // ::
  if (v6.slice(0, 7).every((w) => w === 0) && v6[7] === 1) return true // ::1
  if ((a & 0xfe00) === 0xfc00) return true // fc00::/7 unique local
  if ((a & 0xffc0) === 0xfe80) return true // fe80::/10 link-local
  if ((a & 0xffc0) === 0xfec0) return true // fec0::/10 site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return true // ff00::/8 multicast
  if (a === 0x2001 && b === 0x0db8) return true // 2001:db8::/32 documentation
  if (a === 0x0100 && v6.slice(1, 4).every((w) => w === 0)) return true // 100::/64 discard
  // Past the well-known 64:ff9b::/96, 64:ff9b:1::/48 (RFC 8215) and the rest of 64:ff9b::/32 are for a
  // network's own translators: where they lead is the operator's to say, so they are never a receiver's.
  if (a === 0x0064 && b === 0xff9b) return true
  return false
}

/** The IPv4 address an IPv6 one carries, for the ranges where one does; null otherwise. */
function embeddedIPv4(v6: number[]): number[] | null {
  const low = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]
  const zeros = (from: number, to: number) => v6.slice(from, to).every((w) => w === 0)
  if (zeros(0, 5) && v6[5] === 0xffff) return low(v6[6], v6[7]) // ::ffff:0:0/96 IPv4-mapped
  if (zeros(0, 4) && v6[4] === 0xffff && v6[5] === 0) return low(v6[6], v6[7]) // ::ffff:0:0:0/96 IPv4-translated (RFC 2765)
  if (zeros(0, 6) && (v6[6] !== 0 || v6[7] > 1)) return low(v6[6], v6[7]) // ::/96 IPv4-compatible (deprecated)
  if (v6[0] === 0x0064 && v6[1] === 0xff9b && zeros(2, 6)) return low(v6[6], v6[7]) // 64:ff9b::/96 NAT64
  if (v6[0] === 0x2001 && v6[1] === 0) return low(~v6[6] & 0xffff, ~v6[7] & 0xffff) // 2001::/32 Teredo: the client's address, inverted
  if (v6[0] === 0x2002) return low(v6[1], v6[2]) // 2002::/16 6to4: the IPv4 address follows the prefix
  return null
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
