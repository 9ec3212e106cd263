import { sha256 } from '@noble/hashes/sha2.js'
import nacl from 'tweetnacl'

/**
 * Signed requests from a self-registered agent (POST /auth/agent-register): instead of a key, the agent sends
 *
 *     Authorization: Agent <agent id>:<base64 Ed25519 signature>
 *     X-Agent-Timestamp: <unix seconds>
 *
 * and signs, with the private key whose public half it registered, the UTF-8 bytes of this canonical string
 * (five lines joined by "\n", no trailing newline):
 *
 *     AGENTRY-AGENT-V1
 *     <method, upper case>                 e.g. POST
 *     <path and query as sent>             below the function, e.g. /v1/agent/api-keys?limit=5
 *     <X-Agent-Timestamp, as sent>         e.g. 1795000000
 *     <SHA-256 of the body, lower-case hex> of the exact bytes sent; of no bytes for a GET
 *
 * The path is the request's, without the Supabase gateway's `/functions/v1` and the function's `/api`, so a
 * request to `https://<project>.supabase.co/functions/v1/api/v1/agent/org?x=1` signs `/v1/agent/org?x=1`,
 * wherever the API is served. Binding method, path, time and body means a captured signature is good for
 * that one request only, within `agentSignatureWindowSeconds` of its timestamp; the API refuses a
 * signature it has already seen in that window.
 */
export const agentSignatureVersion = 'AGENTRY-AGENT-V1'
export const agentTimestampHeader = 'x-agent-timestamp'
export const agentSignatureWindowSeconds = 300

export interface SignedRequest {
  method: string
  /** Path and query as sent, below the function (see above). */
  path: string
  timestamp: string
  body: Uint8Array
}

export function canonicalAgentRequest(request: SignedRequest): string {
  return [agentSignatureVersion, request.method.toUpperCase(), request.path, request.timestamp, hex(sha256(request.body))].join('\n')
}

const gatewayPrefix = '/functions/v1'
const functionPrefix = '/api'

/** The path a request signs: its URL's path and query, without the gateway's and the function's prefixes. */
export function signedPath(url: string): string {
  const u = new URL(url)
  let path = u.pathname
  if (path.startsWith(`${gatewayPrefix}/`)) path = path.slice(gatewayPrefix.length)
  if (path.startsWith(`${functionPrefix}/`)) path = path.slice(functionPrefix.length)
  return path + u.search
}

export interface AgentAuthorization {
  agentId: string
  signature: Uint8Array
}

const agentHeader = /^Agent +([0-9a-fA-F-]{36}):([A-Za-z0-9+/]+={0,2})\s*$/

/** The agent id and signature of an `Agent` Authorization header, or null when it is not one well formed. */
export function parseAgentAuthorization(header: string): AgentAuthorization | null {
  const match = agentHeader.exec(header)
  if (!match) return null
  const signature = decodeBase64(match[2])
  if (!signature || signature.length !== nacl.sign.signatureLength) return null
  return { agentId: match[1].toLowerCase(), signature }
}

/** Whether the header uses the Agent scheme at all (well formed or not). */
export function isAgentScheme(header: string): boolean {
  return /^Agent\s/i.test(header)
}

/** The timestamp's distance from `nowMs` in seconds, or null when it is not unix seconds. */
export function timestampSkewSeconds(timestamp: string | undefined, nowMs: number): number | null {
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) return null
  return Math.abs(nowMs / 1000 - Number(timestamp))
}

export function verifyAgentSignature(message: string | Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message
  return nacl.sign.detached.verify(bytes, signature, publicKey)
}

/** Standard base64 (with or without padding) to bytes, or null when it is not base64. */
export function decodeBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null
  try {
    const binary = atob(text.replace(/=+$/, '').padEnd(Math.ceil(text.replace(/=+$/, '').length / 4) * 4, '='))
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
  } catch {
    return null
  }
}

export function hex(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16)
  return s
}
