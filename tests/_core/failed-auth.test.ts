import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressKey, FailedAuthLimiter } from '../../functions/_core/failed-auth.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant } from '../harness/tenants.ts'

// The suite's configuration lifts the limit (every test file calls from 127.0.0.1); this file checks the
// default. The process's limiter is made on the first request, after this line.
process.env.AUTH_FAILURE_LIMIT = '20'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => {
  delete process.env.TRUST_PROXY
  return api.close()
})

const unknownKey = `pk_${'0'.repeat(32)}`
// What a client may have written first, then the address the trusted proxy saw and appended.
const from = (address: string) => ({ 'x-forwarded-for': `10.9.9.9, ${address}` })

describe('failed authentications per source address', () => {
  describe('behind a trusted proxy (TRUST_PROXY=true), by the X-Forwarded-For address the proxy appended', () => {
    beforeAll(() => {
      process.env.TRUST_PROXY = 'true'
    })

    it('answers 20 bad keys with 401, then refuses the address with 429 and Retry-After, a correct key included', async () => {
      const t = await createTenant()
      const key = await t.key()
      const address = '203.0.113.7'
      for (let i = 0; i < 20; i++) {
        const res = await api.call('GET', '/me', { key: unknownKey, headers: from(address) })
        expect(res.status).toBe(401)
      }
      for (const attempt of [unknownKey, key]) {
        const res = await api.call('GET', '/me', { key: attempt, headers: from(address) })
        expect(res.status).toBe(429)
        expect(res.body.error.code).toBe('rate_limited')
        expect(res.body.error.message).toMatch(/^Too many failed authentications from this address; retry in \d+ s\.$/)
        const retryAfter = Number(res.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThanOrEqual(1)
        expect(retryAfter).toBeLessThanOrEqual(60)
      }
    })

    it('leaves other addresses alone while one is refused', async () => {
      const t = await createTenant()
      const key = await t.key()
      for (let i = 0; i < 21; i++) await api.call('GET', '/me', { key: unknownKey, headers: from('198.51.100.1') })
      expect((await api.call('GET', '/me', { key, headers: from('198.51.100.1') })).status).toBe(429)
      expect((await api.call('GET', '/me', { key, headers: from('198.51.100.2') })).status).toBe(200)
      expect((await api.call('GET', '/me', { key: unknownKey, headers: from('198.51.100.2') })).status).toBe(401)
    })

    it('cannot be escaped by writing other addresses at the front of X-Forwarded-For', async () => {
      const t = await createTenant()
      const key = await t.key()
      for (let i = 0; i < 20; i++) {
        const headers = { 'x-forwarded-for': `198.18.2.${i}, 192.0.2.60` }
        expect((await api.call('GET', '/me', { key: unknownKey, headers })).status).toBe(401)
      }
      expect((await api.call('GET', '/me', { key, headers: { 'x-forwarded-for': '198.18.3.1, 192.0.2.60' } })).status).toBe(429)
    })

    it('takes the N-th address from the end behind N trusted proxies (TRUST_PROXY=2)', async () => {
      process.env.TRUST_PROXY = '2'
      try {
        const t = await createTenant()
        const key = await t.key()
        for (let i = 0; i < 20; i++) {
          const headers = { 'x-forwarded-for': `198.18.4.${i}, 192.0.2.61, 10.0.0.${i}` }
          expect((await api.call('GET', '/me', { key: unknownKey, headers })).status).toBe(401)
        }
        expect((await api.call('GET', '/me', { key, headers: { 'x-forwarded-for': '192.0.2.61, 10.0.0.99' } })).status).toBe(429)
        expect((await api.call('GET', '/me', { key, headers: { 'x-forwarded-for': '192.0.2.62, 10.0.0.1' } })).status).toBe(200)
      } finally {
        process.env.TRUST_PROXY = 'true'
      }
    })

    it('never counts successful requests', async () => {
      const t = await createTenant()
      const key = await t.key()
      const address = '192.0.2.44'
      for (let i = 0; i < 30; i++) expect((await api.call('GET', '/me', { key, headers: from(address) })).status).toBe(200)
      for (let i = 0; i < 20; i++) expect((await api.call('GET', '/me', { key: unknownKey, headers: from(address) })).status).toBe(401)
      expect((await api.call('GET', '/me', { key, headers: from(address) })).status).toBe(429)
    })

    it('counts every kind of refused credential: missing, malformed, revoked, expired', async () => {
      const t = await createTenant()
      const revoked = await t.key({ revoked: true })
      const expired = await t.key({ expiresAt: new Date(Date.now() - 1000) })
      const address = '192.0.2.45'
      const attempts: (string | undefined)[] = [undefined, 'pk_nope', revoked, expired, unknownKey]
      for (let i = 0; i < 20; i++) {
        expect((await api.call('GET', '/me', { key: attempts[i % attempts.length], headers: from(address) })).status).toBe(401)
      }
      expect((await api.call('GET', '/me', { key: await t.key(), headers: from(address) })).status).toBe(429)
    })
  })

  describe("without a trusted proxy, by the connection's own address", () => {
    beforeAll(() => {
      delete process.env.TRUST_PROXY
    })

    it('refuses 127.0.0.1 after 20 bad keys, whatever X-Forwarded-For claims', async () => {
      const t = await createTenant()
      const key = await t.key()
      for (let i = 0; i < 20; i++) {
        expect((await api.call('GET', '/me', { key: unknownKey, headers: from(`198.18.0.${i}`) })).status).toBe(401)
      }
      const refused = await api.call('GET', '/me', { key, headers: from('198.18.1.1') })
      expect(refused.status).toBe(429)
      expect(refused.body.error.code).toBe('rate_limited')
    })
  })
})

describe('the failed-authentication limiter', () => {
  const clock = () => {
    let t = 1_000_000
    return {
      now: () => t,
      advance: (ms: number) => {
        t += ms
      },
    }
  }

  it('refuses past the limit until the window ends, then starts counting afresh', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 3, windowMs: 60_000, maxAddresses: 100, now: c.now })
    for (let i = 0; i < 3; i++) {
      expect(limiter.blockedFor('a')).toBe(0)
      limiter.recordFailure('a')
    }
    expect(limiter.blockedFor('a')).toBe(60)
    c.advance(59_500)
    expect(limiter.blockedFor('a')).toBe(1)
    c.advance(500)
    expect(limiter.blockedFor('a')).toBe(0)
    limiter.recordFailure('a')
    expect(limiter.blockedFor('a')).toBe(0)
  })

  it('says it refuses no one until an address reaches its limit, and again once every such window is forgotten', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 2, windowMs: 60_000, maxAddresses: 2, now: c.now })
    limiter.recordFailure('a')
    expect(limiter.refusing).toBe(false)
    limiter.recordFailure('a')
    limiter.recordFailure('b')
    limiter.recordFailure('b')
    limiter.recordFailure('b')
    expect(limiter.refusing).toBe(true)
    c.advance(60_000)
    expect(limiter.blockedFor('a')).toBe(0)
    expect(limiter.refusing).toBe(true)
    // A new address pushes out the other ended window.
    limiter.recordFailure('c')
    expect(limiter.trackedAddresses).toBe(1)
    expect(limiter.refusing).toBe(false)
  })

  it('keeps at most maxAddresses, forgetting the longest-tracked first', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 1, windowMs: 60_000, maxAddresses: 3, now: c.now })
    for (const address of ['a', 'b', 'c', 'd']) {
      limiter.recordFailure(address)
      c.advance(1)
    }
    expect(limiter.trackedAddresses).toBe(3)
    expect(limiter.blockedFor('a')).toBe(0)
    expect(['b', 'c', 'd'].map((address) => limiter.blockedFor(address) > 0)).toEqual([true, true, true])
  })

  it('forgets addresses whose window has ended before any still counting', () => {
    const c = clock()
    const limiter = new FailedAuthLimiter({ limit: 5, windowMs: 60_000, maxAddresses: 1000, now: c.now })
    for (let i = 0; i < 500; i++) limiter.recordFailure(`old-${i}`)
    c.advance(61_000)
    limiter.recordFailure('new')
    expect(limiter.trackedAddresses).toBe(1)
  })

  it('files a client under one key: IPv4-mapped addresses as IPv4, IPv6 by its /64', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64')
    expect(addressKey('[2001:db8::1]')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
  })
})
