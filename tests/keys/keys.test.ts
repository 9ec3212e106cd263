import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advanceClockForTests, now, resetClockForTests } from '../../functions/_core/clock.ts'
import { usageCounters } from '../../functions/_core/request-path.ts'
import { createKeyRoute } from '../../functions/keys/create-key.ts'
import { deleteKeyRoute } from '../../functions/keys/delete-key.ts'
import { getKeyRoute } from '../../functions/keys/get-key.ts'
import { listKeysRoute } from '../../functions/keys/list-keys.ts'
import { rotateKeyRoute } from '../../functions/keys/rotate-key.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { givePlan } from '../harness/plans.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

// The target holds keys:write only, so a key holding exactly keys:write may rotate it.
const targetKey = async (t: Tenant) => ({ id: (await t.keyWithId({ name: 'target', scopes: ['keys:write'] })).id })
const otherAgentKey = async (t: Tenant) => ({ id: (await t.keyWithId({ agent: 'otherAgent' })).id })

describeSecurity(listKeysRoute, {}, () => api)
describeSecurity(getKeyRoute, { params: targetKey, otherAgentParams: otherAgentKey }, () => api)
describeSecurity(createKeyRoute, { body: { name: 'ci', scopes: ['keys:write'] } }, () => api)
describeSecurity(rotateKeyRoute, { params: targetKey, otherAgentParams: otherAgentKey }, () => api)
describeSecurity(deleteKeyRoute, { params: targetKey, otherAgentParams: otherAgentKey }, () => api)

/**
 * Usage is counted in the API process (this one, which answered every call before the test goes on) and
 * written once a second: writes what it has counted now, then reads the key's count.
 */
async function usageWritten(keyId: string, calls: number) {
  await usageCounters().flush()
  const [row] = await serviceSql()`select call_count::int as calls from agentry.api_keys where id = ${keyId}`
  expect(row.calls).toBe(calls)
}

describe('creating keys', () => {
  it('returns the raw key once, stores only its hash, and the new key works at once', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const res = await api.call('POST', '/agent/api-keys', {
      key: admin,
      body: { name: 'reporting', scopes: ['datasets:read', 'keys:read'] },
    })
    expect(res.status).toBe(201)
    const created = res.body.data
    expect(created.key).toMatch(/^pk_[0-9a-f]{32}$/)
    expect(created).toMatchObject({
      name: 'reporting',
      kind: 'org',
      prefix: created.key.slice(0, 11),
      scopes: ['datasets:read', 'keys:read'],
      status: 'active',
      calls: 0,
    })

    const [stored] = await serviceSql()`select encode(key_hash, 'hex') as hash from agentry.api_keys where id = ${created.id}`
    const expected = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(created.key))).toString('hex')
    expect(stored.hash).toBe(expected)

    const list = await api.call('GET', '/agent/api-keys', { key: created.key })
    expect(list.status).toBe(200)
    expect(JSON.stringify(list.body)).not.toContain(created.key)
    expect(list.body.data.map((k: { id: string }) => k.id)).toContain(created.id)
  })

  it('creates an agent key (ck_live_, ck_test_) bound to one agent', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const live = await api.call('POST', '/agent/api-keys', { key: admin, body: { name: 'bot', agent_id: t.agent.id } })
    expect(live.status).toBe(201)
    expect(live.body.data).toMatchObject({ kind: 'agent', agent_id: t.agent.id, mode: 'live' })
    expect(live.body.data.key).toMatch(/^ck_live_[0-9a-f]{32}$/)
    const test = await api.call('POST', '/agent/api-keys', {
      key: admin,
      body: { name: 'bot', agent_id: t.agent.id, mode: 'test', permissions: ['datasets:read'] },
    })
    expect(test.body.data.key).toMatch(/^ck_test_/)
    expect(test.body.data.scopes).toEqual(['datasets:read'])
    const me = await api.call('GET', '/me', { key: test.body.data.key })
    expect(me.body.data).toMatchObject({ credential: 'agent_key', agent_id: t.agent.id, key: { mode: 'test' } })
  })

  it('refuses to grant a scope the creating key does not hold', async () => {
    const t = await createTenant()
    const limited = await t.key({ scopes: ['keys:write', 'datasets:read'] })
    const ok = await api.call('POST', '/agent/api-keys', { key: limited, body: { name: 'narrower', scopes: ['datasets:read'] } })
    expect(ok.status).toBe(201)
    const wider = await api.call('POST', '/agent/api-keys', { key: limited, body: { name: 'wider', scopes: ['datasets:write'] } })
    expect(wider.status).toBe(403)
    expect(wider.body.error.code).toBe('insufficient_scope')
    expect(wider.body.error.message).toContain('"datasets:write"')
    const full = await api.call('POST', '/agent/api-keys', { key: limited, body: { name: 'full', scopes: ['*'] } })
    expect(full.status).toBe(403)
    const defaulted = await api.call('POST', '/agent/api-keys', { key: limited, body: { name: 'same' } })
    expect(defaulted.status).toBe(201)
    expect(defaulted.body.data.scopes).toEqual(['keys:write', 'datasets:read'])
  })

  it('lets an agent key create keys for its own agent only', async () => {
    const t = await createTenant()
    const agentKey = await t.key({ agent: 'agent' })
    const own = await api.call('POST', '/agent/api-keys', { key: agentKey, body: { name: 'sub' } })
    expect(own.status).toBe(201)
    expect(own.body.data).toMatchObject({ kind: 'agent', agent_id: t.agent.id })
    const other = await api.call('POST', '/agent/api-keys', { key: agentKey, body: { name: 'sub', agent_id: t.otherAgent.id } })
    expect(other.status).toBe(404)
    expect(other.body.error.code).toBe('not_found')
  })

  it('answers 404 for an agent of another organisation', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const res = await api.call('POST', '/agent/api-keys', { key: await t.key(), body: { name: 'x', agent_id: other.agent.id } })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
  })

  it('names the problem in bad input', async () => {
    const t = await createTenant()
    const key = await t.key()
    const cases: [unknown, RegExp][] = [
      [{}, /name/],
      [{ name: 'x', scopes: ['datasets:admin'] }, /scopes\.0: Unknown scope/],
      [{ name: 'x', colour: 'red' }, /colour/],
      [{ name: 'x', expires_at: '2001-01-01T00:00:00Z' }, /expires_at: Must be in the future/],
      [{ name: 'x', mode: 'test' }, /mode/],
      [{ name: 'x', scopes: ['*'], permissions: ['*'] }, /either "scopes" or "permissions"/],
      [{ name: 'x', agent_id: 'agent-7' }, /agent_id/],
    ]
    for (const [body, message] of cases) {
      const res = await api.call('POST', '/agent/api-keys', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toMatch(message)
    }
  })

  it('keeps a key working until its expiry, then answers 401 with the time, whether or not the key was seen before', async () => {
    const t = await createTenant()
    const expiresAt = new Date(now() + 60_000)
    const admin = await t.key()
    const create = (name: string) =>
      api.call('POST', '/agent/api-keys', { key: admin, body: { name, expires_at: expiresAt.toISOString() } })
    const [seen, unseen] = [(await create('seen')).body.data.key, (await create('unseen')).body.data.key]
    expect((await api.call('GET', '/me', { key: seen })).status).toBe(200)
    try {
      advanceClockForTests(50_000)
      expect((await api.call('GET', '/me', { key: seen })).status).toBe(200)
      advanceClockForTests(10_000)
      // The seen key is refused from this process's memory, the unseen one by the database at the same time.
      for (const key of [seen, unseen]) {
        const late = await api.call('GET', '/me', { key })
        expect(late.status).toBe(401)
        expect(late.body.error).toEqual({ code: 'unauthorized', message: `This API key expired at ${expiresAt.toISOString()}.` })
      }
    } finally {
      resetClockForTests()
    }
  })

  it('refuses a key once its expiry passes (the real-time smoke test of key expiry)', async () => {
    const t = await createTenant()
    const expiresAt = new Date(Date.now() + 1000)
    const res = await api.call('POST', '/agent/api-keys', {
      key: await t.key(),
      body: { name: 'short', expires_at: expiresAt.toISOString() },
    })
    expect(res.status).toBe(201)
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt.getTime() + 50 - Date.now())))
    const late = await api.call('GET', '/me', { key: res.body.data.key })
    expect(late.status).toBe(401)
    expect(late.body.error.message).toBe(`This API key expired at ${expiresAt.toISOString()}.`)
  })
})

describe('a key stays within the key that creates it', () => {
  const inMinutes = (n: number) => new Date(Date.now() + n * 60_000)

  it("gives a key created by an expiring key its creator's expiry, and refuses a later one with 400 naming it", async () => {
    const t = await createTenant()
    const creatorExpiry = inMinutes(60)
    const creator = await t.key({ expiresAt: creatorExpiry })
    const defaulted = await api.call('POST', '/agent/api-keys', { key: creator, body: { name: 'child' } })
    expect(defaulted.status).toBe(201)
    expect(Date.parse(defaulted.body.data.expires_at)).toBe(creatorExpiry.getTime())

    const later = await api.call('POST', '/agent/api-keys', {
      key: creator,
      body: { name: 'outlives', expires_at: inMinutes(120).toISOString() },
    })
    expect(later.status).toBe(400)
    expect(later.body.error).toEqual({
      code: 'validation_failed',
      message: `Invalid request: expires_at: Must be no later than ${creatorExpiry.toISOString()}, when the key creating it expires.`,
      fields: [{ field: 'expires_at', message: `Must be no later than ${creatorExpiry.toISOString()}, when the key creating it expires.` }],
    })

    const earlier = inMinutes(30)
    const sooner = await api.call('POST', '/agent/api-keys', { key: creator, body: { name: 'shorter', expires_at: earlier.toISOString() } })
    expect(sooner.status).toBe(201)
    expect(Date.parse(sooner.body.data.expires_at)).toBe(earlier.getTime())
  })

  it('leaves keys created by a key without an expiry without one', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/agent/api-keys', { key: await t.key(), body: { name: 'open-ended' } })
    expect(res.status).toBe(201)
    expect(res.body.data.expires_at).toBeNull()
  })

  it("holds during a rotation's grace period: the old key can only create keys that end when it does", async () => {
    const t = await createTenant()
    const admin = await t.key()
    const old = await t.keyWithId()
    const rotated = await api.call('POST', `/agent/api-keys/${old.id}/rotate`, { key: admin, body: { grace_period_seconds: 600 } })
    expect(rotated.status).toBe(201)
    const [{ expires_at: graceEnd }] = await serviceSql()`select expires_at from agentry.api_keys where id = ${old.id}`

    const child = await api.call('POST', '/agent/api-keys', { key: old.key, body: { name: 'made in grace' } })
    expect(child.status).toBe(201)
    expect(Date.parse(child.body.data.expires_at)).toBe(graceEnd.getTime())
    const outliving = await api.call('POST', '/agent/api-keys', {
      key: old.key,
      body: { name: 'too long', expires_at: inMinutes(60).toISOString() },
    })
    expect(outliving.status).toBe(400)
    expect(outliving.body.error.message).toContain(`Must be no later than ${graceEnd.toISOString()}`)
  })

  it("gives a rotated key the old key's expiry, brought forward to the rotating key's own when that is earlier", async () => {
    const t = await createTenant()
    const rotatorExpiry = inMinutes(60)
    const rotator = await t.key({ expiresAt: rotatorExpiry })
    const open = await t.keyWithId()
    const fromOpen = await api.call('POST', `/agent/api-keys/${open.id}/rotate`, { key: rotator })
    expect(fromOpen.status).toBe(201)
    expect(Date.parse(fromOpen.body.data.expires_at)).toBe(rotatorExpiry.getTime())

    const soonerExpiry = inMinutes(30)
    const sooner = await t.keyWithId({ expiresAt: soonerExpiry })
    const fromSooner = await api.call('POST', `/agent/api-keys/${sooner.id}/rotate`, { key: rotator })
    expect(fromSooner.status).toBe(201)
    expect(Date.parse(fromSooner.body.data.expires_at)).toBe(soonerExpiry.getTime())
  })

  it('lets a test key create and rotate test keys only', async () => {
    const t = await createTenant()
    const testKey = await t.key({ agent: 'agent', mode: 'test' })
    const child = await api.call('POST', '/agent/api-keys', { key: testKey, body: { name: 'ci' } })
    expect(child.status).toBe(201)
    expect(child.body.data).toMatchObject({ kind: 'agent', agent_id: t.agent.id, mode: 'test' })
    expect(child.body.data.key).toMatch(/^ck_test_/)

    const live = await api.call('POST', '/agent/api-keys', { key: testKey, body: { name: 'prod', agent_id: t.agent.id, mode: 'live' } })
    expect(live.status).toBe(403)
    expect(live.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'A test key (ck_test_) can create test keys only; leave "mode" out or set it to "test".',
    })

    const liveKey = await t.keyWithId({ agent: 'agent', mode: 'live' })
    const rotateLive = await api.call('POST', `/agent/api-keys/${liveKey.id}/rotate`, { key: testKey })
    expect(rotateLive.status).toBe(403)
    expect(rotateLive.body.error.message).toMatch(/can rotate test keys only/)
    expect((await api.call('GET', '/me', { key: liveKey.key })).status).toBe(200)

    const rotateTest = await api.call('POST', `/agent/api-keys/${child.body.data.id}/rotate`, { key: testKey })
    expect(rotateTest.status).toBe(201)
    expect(rotateTest.body.data.key).toMatch(/^ck_test_/)
  })

  it('lets a live key create a test key for its agent', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/agent/api-keys', {
      key: await t.key({ agent: 'agent' }),
      body: { name: 'ci', mode: 'test', agent_id: t.agent.id },
    })
    expect(res.status).toBe(201)
    expect(res.body.data.mode).toBe('test')
  })
})

describe('listing and reading keys', () => {
  it('shows name, prefix, scopes, status, usage and expiry, never the key or its hash', async () => {
    const t = await createTenant()
    const { key, id } = await t.keyWithId({ name: 'counted', scopes: ['keys:read'] })
    const reader = await t.key({ scopes: ['keys:read'] })
    for (let i = 0; i < 3; i++) await api.call('GET', '/agent/api-keys', { key })
    await usageWritten(id, 3)
    // Read with another key, whose own call does not count on this one.
    const res = await api.call('GET', `/agent/api-keys/${id}`, { key: reader })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      id,
      name: 'counted',
      prefix: key.slice(0, 11),
      scopes: ['keys:read'],
      status: 'active',
      calls: 3,
      expires_at: null,
    })
    expect(Date.parse(res.body.data.last_used_at)).toBeGreaterThan(Date.now() - 60_000)
    expect(Object.keys(res.body.data)).not.toContain('key_hash')
    expect(JSON.stringify(res.body)).not.toContain(key)
  })

  it("shows an agent key only its own agent's keys", async () => {
    const t = await createTenant()
    const mine = await t.keyWithId({ agent: 'agent' })
    const theirs = await t.keyWithId({ agent: 'otherAgent' })
    const org = await t.keyWithId()
    const res = await api.call('GET', '/agent/api-keys', { key: mine.key })
    const ids = res.body.data.map((k: { id: string }) => k.id)
    expect(ids).toEqual([mine.id])
    expect(ids).not.toContain(theirs.id)
    expect(ids).not.toContain(org.id)
  })

  it('rejects a key id that is not a UUID with 400', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/agent/api-keys/key_abc', { key: await t.key() })
    expect(res.status).toBe(400)
    expect(res.body.error.message).toMatch(/Key id must be a UUID/)
  })
})

describe('rotating keys', () => {
  it('returns a new key with the same name and scopes and stops the old one at once', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const old = await t.keyWithId({ name: 'deploy', scopes: ['keys:read'] })
    const res = await api.call('POST', `/agent/api-keys/${old.id}/rotate`, { key: admin })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({ name: 'deploy', scopes: ['keys:read'], rotated_from: old.id, status: 'active' })
    expect(res.body.data.key).not.toBe(old.key)
    expect((await api.call('GET', '/me', { key: old.key })).status).toBe(401)
    expect((await api.call('GET', '/me', { key: res.body.data.key })).status).toBe(200)
  })

  it('keeps the old key alive through a grace period, and refuses it after', async () => {
    const t = await createTenant()
    const old = await t.keyWithId()
    const res = await api.call('POST', `/agent/api-keys/${old.id}/rotate`, { key: old.key, body: { grace_period_seconds: 60 } })
    expect(res.status).toBe(201)
    expect((await api.call('GET', '/me', { key: old.key })).status).toBe(200)
    try {
      advanceClockForTests(50_000)
      expect((await api.call('GET', '/me', { key: old.key })).status).toBe(200)
      advanceClockForTests(11_000)
      const after = await api.call('GET', '/me', { key: old.key })
      expect(after.status).toBe(401)
      expect(after.body.error.message).toMatch(/^This API key expired at \d{4}-/)
      expect((await api.call('GET', '/me', { key: res.body.data.key })).status).toBe(200)
    } finally {
      resetClockForTests()
    }
  })

  it('refuses to rotate a revoked key with 409, and a bad grace period with 400', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const revoked = await t.keyWithId({ revoked: true })
    const res = await api.call('POST', `/agent/api-keys/${revoked.id}/rotate`, { key: admin })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('conflict')
    const live = await t.keyWithId()
    const bad = await api.call('POST', `/agent/api-keys/${live.id}/rotate`, { key: admin, body: { grace_period_seconds: -5 } })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/grace_period_seconds/)
  })
})

describe('revoking and deleting keys', () => {
  it('revokes: the key is rejected on the very next request and its record and history remain', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const victim = await t.keyWithId()
    expect((await api.call('GET', '/me', { key: victim.key })).status).toBe(200)
    await usageWritten(victim.id, 1)
    const res = await api.call('DELETE', `/agent/api-keys/${victim.id}`, { key: admin })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id: victim.id, status: 'revoked', calls: 1 })
    const next = await api.call('GET', '/me', { key: victim.key })
    expect(next.status).toBe(401)
    expect(next.body.error.message).toBe('This API key has been revoked.')
    const again = await api.call('DELETE', `/agent/api-keys/${victim.id}`, { key: admin })
    expect(again.status).toBe(200)
    const kept = await api.call('GET', `/agent/api-keys/${victim.id}`, { key: admin })
    expect(kept.body.data.status).toBe('revoked')
  })

  it('deletes the record with permanent=true', async () => {
    const t = await createTenant()
    const admin = await t.key()
    const victim = await t.keyWithId()
    const res = await api.call('DELETE', `/agent/api-keys/${victim.id}?permanent=true`, { key: admin })
    expect(res.status).toBe(200)
    expect((await api.call('GET', `/agent/api-keys/${victim.id}`, { key: admin })).status).toBe(404)
    const next = await api.call('GET', '/me', { key: victim.key })
    expect(next.status).toBe(401)
    expect(next.body.error.message).toMatch(/Invalid API key/)
  })

  it('refuses to revoke or delete a key holding a scope the caller lacks, naming the scope', async () => {
    const t = await createTenant()
    const narrow = await t.key({ scopes: ['keys:write'] })
    const broad = await t.keyWithId({ scopes: ['*'] })
    const revoke = await api.call('DELETE', `/agent/api-keys/${broad.id}`, { key: narrow })
    expect(revoke.status).toBe(403)
    expect(revoke.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'This key holds the scope "*", which the credential revoking it does not hold.',
    })
    const remove = await api.call('DELETE', `/agent/api-keys/${broad.id}?permanent=true`, { key: narrow })
    expect(remove.status).toBe(403)
    expect(remove.body.error.message).toBe('This key holds the scope "*", which the credential deleting it does not hold.')
    expect((await api.call('GET', '/me', { key: broad.key })).status).toBe(200)

    const peer = await t.keyWithId({ scopes: ['keys:write'] })
    expect((await api.call('DELETE', `/agent/api-keys/${peer.id}`, { key: narrow })).status).toBe(200)
  })

  it('rejects a revoked key under concurrent requests: nothing gets through after the revoke commits', async () => {
    const t = await createTenant()
    await givePlan(t, { maxConcurrentRequests: 100 })
    const admin = await t.key()
    const victim = await t.keyWithId()
    const before = Array.from({ length: 20 }, () => api.call('GET', '/me', { key: victim.key }))
    const revoke = api.call('DELETE', `/agent/api-keys/${victim.id}`, { key: admin })
    const during = Array.from({ length: 20 }, () => api.call('GET', '/me', { key: victim.key }))
    expect((await revoke).status).toBe(200)
    const revokedAt = Date.now()
    const after = await Promise.all(Array.from({ length: 40 }, () => api.call('GET', '/me', { key: victim.key })))
    expect(after.every((r) => r.status === 401)).toBe(true)
    for (const r of await Promise.all([...before, ...during])) expect([200, 401]).toContain(r.status)
    // Every admitted call is counted, within a second; no refused one is.
    const admitted = (await Promise.all([...before, ...during])).filter((r) => r.status === 200).length
    await usageWritten(victim.id, admitted)
    const [row] = await serviceSql()`select revoked_at from agentry.api_keys where id = ${victim.id}`
    expect(row.revoked_at.getTime()).toBeLessThanOrEqual(revokedAt)
  })
})
