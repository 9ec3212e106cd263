import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getMeRoute } from '../../functions/me/get-me.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describeSecurity(getMeRoute, {}, () => api)

describe('GET /me', () => {
  it('tells an organisation token its org, scopes, expiry and rate-limit state', async () => {
    const t = await createTenant({ rateLimitPerMinute: 500 })
    const expiresAt = new Date(Date.now() + 3600_000)
    const { key, id } = await t.keyWithId({ scopes: ['datasets:read', 'keys:read'], expiresAt })
    const res = await api.call('GET', '/me', { key })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      credential: 'org_key',
      org: { id: t.org.id, name: t.org.name, plan: 'free' },
      agent_id: null,
      key: { id, mode: null, expires_at: expiresAt.toISOString() },
      user: null,
      scopes: ['datasets:read', 'keys:read'],
      rate_limit: { limit: 500, remaining: 499 },
    })
    expect(res.body.data.rate_limit.reset).toBe(Number(res.headers.get('x-ratelimit-reset')))
  })

  it("shows a wildcard key's scopes as granted: '*:read' reads every section and writes none, '*' does both", async () => {
    const t = await createTenant()
    const reader = await t.key({ scopes: ['*:read'] })
    const me = await api.call('GET', '/me', { key: reader })
    expect(me.body.data.scopes).toEqual(['*:read'])
    for (const path of ['/agents', '/agent/org', '/agent/api-keys', '/conversations', '/datasets', '/webhooks', '/audit-logs']) {
      expect((await api.call('GET', path, { key: reader })).status, path).toBe(200)
    }
    const writes: [string, string, unknown, string][] = [
      ['POST', '/agent/api-keys', { name: 'not allowed' }, 'keys:write'],
      ['POST', '/webhooks', { url: 'https://example.com/hooks', events: ['api_key.created'] }, 'webhooks:write'],
      ['PATCH', `/agents/${t.agent.id}`, { name: 'renamed' }, 'agents:write'],
    ]
    for (const [method, path, body, scope] of writes) {
      const res = await api.call(method, path, { key: reader, body })
      expect(res.status, path).toBe(403)
      expect(res.body.error).toEqual({ code: 'insufficient_scope', message: `This API key lacks the required scope "${scope}".` })
    }
    const full = await t.key({ scopes: ['*'] })
    expect((await api.call('GET', '/me', { key: full })).body.data.scopes).toEqual(['*'])
    expect((await api.call('GET', '/agent/api-keys', { key: full })).status).toBe(200)
    for (const [method, path, body] of writes) {
      expect((await api.call(method, path, { key: full, body })).status, path).toBeLessThan(300)
    }
  })

  it('tells an agent key its agent', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/me', { key: await t.key({ agent: 'otherAgent', mode: 'test' }) })
    expect(res.body.data).toMatchObject({ credential: 'agent_key', agent_id: t.otherAgent.id, key: { mode: 'test' } })
  })
})
