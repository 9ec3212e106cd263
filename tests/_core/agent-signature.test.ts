import { createHash } from 'node:crypto'
import nacl from 'tweetnacl'
import { describe, expect, it } from 'vitest'
import {
  canonicalAgentRequest,
  decodeBase64,
  parseAgentAuthorization,
  signedPath,
  timestampSkewSeconds,
  verifyAgentSignature,
} from '../../functions/_core/agent-signature.ts'

const emptyHash = createHash('sha256').update('').digest('hex')

describe('the canonical string an agent signs', () => {
  it('is five lines: version, method, path and query, timestamp and the body hash', () => {
    const body = new TextEncoder().encode('{"name":"k"}')
    expect(canonicalAgentRequest({ method: 'post', path: '/v1/agent/api-keys?x=1', timestamp: '1795000000', body })).toBe(
      `AGENTRY-AGENT-V1\nPOST\n/v1/agent/api-keys?x=1\n1795000000\n${createHash('sha256').update('{"name":"k"}').digest('hex')}`,
    )
    expect(canonicalAgentRequest({ method: 'GET', path: '/v1/me', timestamp: '1', body: new Uint8Array() }).split('\n')[4]).toBe(emptyHash)
  })

  it('takes the path below the function, wherever the API is served, with the query as sent', () => {
    expect(signedPath('https://p.supabase.co/functions/v1/api/v1/agent/org?b=2&a=1')).toBe('/v1/agent/org?b=2&a=1')
    expect(signedPath('http://127.0.0.1:8000/api/v1/agent/org')).toBe('/v1/agent/org')
    expect(signedPath('http://127.0.0.1:8000/api/rest/v1/items?select=*')).toBe('/rest/v1/items?select=*')
  })
})

describe('an Agent Authorization header', () => {
  const signature = Buffer.alloc(64, 7).toString('base64')
  const id = '6f1d2a4e-0c3b-4f7a-9a51-2b8f0e6c1d23'

  it('names an agent id and a 64-byte signature', () => {
    expect(parseAgentAuthorization(`Agent ${id.toUpperCase()}:${signature}`)).toEqual({
      agentId: id,
      signature: new Uint8Array(64).fill(7),
    })
  })

  it('is refused when the id is not one, or the signature is not 64 bytes of base64', () => {
    expect(parseAgentAuthorization(`Agent nope:${signature}`)).toBeNull()
    expect(parseAgentAuthorization(`Agent ${id}:${Buffer.alloc(63).toString('base64')}`)).toBeNull()
    expect(parseAgentAuthorization(`Agent ${id}:not*base64`)).toBeNull()
    expect(parseAgentAuthorization(`Bearer ${id}:${signature}`)).toBeNull()
  })
})

describe('the timestamp', () => {
  it('is unix seconds, and its distance from now is measured both ways', () => {
    expect(timestampSkewSeconds('1000', 1_300_000)).toBe(300)
    expect(timestampSkewSeconds('1600', 1_300_000)).toBe(300)
    expect(timestampSkewSeconds('1e3', 1_300_000)).toBeNull()
    expect(timestampSkewSeconds(undefined, 1_300_000)).toBeNull()
  })
})

describe('a signature', () => {
  it('verifies for the signing key and the exact text only', () => {
    const pair = nacl.sign.keyPair()
    const signature = nacl.sign.detached(new TextEncoder().encode('hello'), pair.secretKey)
    expect(verifyAgentSignature('hello', signature, pair.publicKey)).toBe(true)
    expect(verifyAgentSignature('hello!', signature, pair.publicKey)).toBe(false)
    expect(verifyAgentSignature('hello', signature, nacl.sign.keyPair().publicKey)).toBe(false)
  })

  it('decodes base64 with or without padding, and nothing else', () => {
    expect(decodeBase64('aGk=')).toEqual(new Uint8Array([104, 105]))
    expect(decodeBase64('aGk')).toEqual(new Uint8Array([104, 105]))
    expect(decodeBase64('a')).toBeNull()
    expect(decodeBase64('aG-k')).toBeNull()
  })
})
