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
    const { key, id } = await t.keyWithId({ scopes: ['datasets:read', 'keys:*'.replace('*', 'read')], expiresAt })
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

  it('tells an agent key its agent', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/me', { key: await t.key({ agent: 'otherAgent', mode: 'test' }) })
    expect(res.body.data).toMatchObject({ credential: 'agent_key', agent_id: t.otherAgent.id, key: { mode: 'test' } })
  })
})
