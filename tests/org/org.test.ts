import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getOrgRoute } from '../../functions/org/get-org.ts'
import { updateOrgRoute } from '../../functions/org/update-org.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describeSecurity(getOrgRoute, {}, () => api)
describeSecurity(updateOrgRoute, { body: { name: 'Renamed' } }, () => api)

describe('the organisation', () => {
  it('shows its plan, rate limit and the two environments every organisation starts with', async () => {
    const t = await createTenant()
    const res = await api.call('GET', '/agent/org', { key: await t.key() })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id: t.org.id, name: t.org.name, plan: 'free', rate_limit_per_minute: 1_000_000 })
    expect(res.body.data.environments.map((e: { name: string }) => e.name).sort()).toEqual(['development', 'production'])
  })

  it("takes the plan's limit when the organisation has no override", async () => {
    const t = await createTenant()
    await serviceSql()`update agentry.organisations set plan = 'pro', rate_limit_per_minute = null where id = ${t.org.id}`
    const res = await api.call('GET', '/agent/org', { key: await t.key() })
    expect(res.body.data).toMatchObject({ plan: 'pro', rate_limit_per_minute: 600 })
    expect(res.headers.get('x-ratelimit-limit')).toBe('600')
  })

  it('is renamed with PATCH, and the write is in the audit log', async () => {
    const t = await createTenant()
    const { key, id } = await t.keyWithId()
    const res = await api.call('PATCH', '/agent/org', { key, body: { name: '  Acme Robotics ' } })
    expect(res.status).toBe(200)
    expect(res.body.data.name).toBe('Acme Robotics')
    expect((await api.call('GET', '/agent/org', { key })).body.data.name).toBe('Acme Robotics')
    const audit = await serviceSql()`select method, path, status, key_id, request_id from agentry.audit_log where org_id = ${t.org.id}`
    expect(audit).toEqual([
      { method: 'PATCH', path: '/api/v1/agent/org', status: 200, key_id: id, request_id: res.headers.get('x-request-id') },
    ])
  })

  it('refuses an empty name, unknown fields and non-JSON bodies, naming the problem', async () => {
    const t = await createTenant()
    const key = await t.key()
    const empty = await api.call('PATCH', '/agent/org', { key, body: { name: '   ' } })
    expect(empty.status).toBe(400)
    expect(empty.body.error).toMatchObject({ code: 'validation_failed' })
    expect(empty.body.error.message).toMatch(/^Invalid request: name: /)
    const unknown = await api.call('PATCH', '/agent/org', { key, body: { name: 'X', plan: 'enterprise' } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.message).toMatch(/plan/)
    const text = await api.call('PATCH', '/agent/org', {
      key,
      rawBody: 'name=X',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(text.status).toBe(415)
    expect(text.body.error.code).toBe('unsupported_media_type')
  })
})
