import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createOrganisation, setOrganisationRateLimit } from '../../scripts/lib/admin.ts'
import { demoRateLimitPerMinute, ensureDemo } from '../../scripts/lib/demo.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { serviceSql } from '../harness/tenants.ts'

let api: TestApi
let dataDir: string
beforeAll(async () => {
  api = await startApi()
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-demo-'))
})
afterAll(async () => {
  await api.close()
  fs.rmSync(dataDir, { recursive: true, force: true })
})

describe('the demo organisation of npm start', () => {
  it('may make 6,000 requests a minute, and 100 in a row all answer 200', async () => {
    const demo = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(demo).toMatchObject({ created: true, rate_limit_per_minute: 6000 })
    expect(demoRateLimitPerMinute).toBe(6000)
    const statuses: number[] = []
    let last: Headers | undefined
    for (let i = 0; i < 100; i++) {
      const res = await api.call('GET', '/me', { key: demo.key })
      statuses.push(res.status)
      last = res.headers
    }
    expect(statuses).toEqual(Array(100).fill(200))
    expect(last?.get('x-ratelimit-limit')).toBe('6000')
  })

  it('keeps a limit changed with the CLI, and gives an older demo without one its 6,000 again', async () => {
    const first = await ensureDemo(inject('databaseUrl'), dataDir)
    await setOrganisationRateLimit(serviceSql(), first.org_id, 120)
    const changed = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(changed).toMatchObject({ created: false, org_id: first.org_id, key: first.key, rate_limit_per_minute: 120 })

    await setOrganisationRateLimit(serviceSql(), first.org_id, null)
    const older = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(older).toMatchObject({ created: false, org_id: first.org_id, rate_limit_per_minute: 6000 })
    const res = await api.call('GET', '/me', { key: first.key })
    expect(res.headers.get('x-ratelimit-limit')).toBe('6000')
  })

  it('leaves other organisations on their plan: a new free organisation may make 60 a minute', async () => {
    const org = await createOrganisation(serviceSql(), { name: `Not the demo ${crypto.randomUUID().slice(0, 8)}` })
    const { key } = await issueKey(serviceSql(), { orgId: org.id, agentId: null, mode: null, name: 'k', scopes: ['*'], expiresAt: null })
    const res = await api.call('GET', '/me', { key })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-ratelimit-limit')).toBe('60')
  })
})
