import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { newAgentKeys, registration } from './agent-client.ts'

let api: TestApi
beforeAll(async () => {
  process.env.AGENT_REGISTRATION_LIMIT = '3'
  api = await startApi()
})
afterAll(() => api.close())

describe('agent registration from one address', () => {
  it('is refused with 429 and Retry-After once the hourly limit is used', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await api.call('POST', '/auth/agent-register', { body: registration(newAgentKeys()) })).status).toBe(201)
    }
    const refused = await api.call('POST', '/auth/agent-register', { body: registration(newAgentKeys()) })
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('rate_limited')
    expect(refused.body.error.message).toMatch(/^Too many agent registrations from this address; retry in \d+ s\.$/)
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3500)
  })
})
