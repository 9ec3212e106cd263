import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createOrganisation, findOrganisation, setOrganisationRateLimit } from '../../scripts/lib/admin.ts'
import { demoPlan, describeDemoLimit, ensureDemo } from '../../scripts/lib/demo.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { serviceSql } from '../harness/tenants.ts'

let api: TestApi
const dataDirs: string[] = []
const newDataDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-demo-'))
  dataDirs.push(dir)
  return dir
}
let dataDir: string
beforeAll(async () => {
  api = await startApi()
  dataDir = newDataDir()
})
afterAll(async () => {
  await api.close()
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true })
})

/** A demo as `npm start` made it before the development plan: on free, with an override of its own. */
async function olderDemo(override: number | null) {
  const org = await createOrganisation(serviceSql(), {
    name: `Older demo ${crypto.randomUUID().slice(0, 8)}`,
    rateLimitPerMinute: override,
  })
  const { key } = await issueKey(serviceSql(), { orgId: org.id, agentId: null, mode: null, name: 'k', scopes: ['*'], expiresAt: null })
  const dir = newDataDir()
  fs.writeFileSync(path.join(dir, 'dev-keys.json'), JSON.stringify({ org_id: org.id, agent_id: crypto.randomUUID(), key }))
  return { org, key, dir }
}

describe('the demo organisation of npm start', () => {
  it('is on the development plan, which allows 6,000 requests a minute, and 100 in a row all answer 200', async () => {
    const demo = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(demoPlan).toBe('development')
    expect(demo).toMatchObject({ created: true, plan: 'development', rate_limit_per_minute: 6000, overridden: false })
    expect(await findOrganisation(serviceSql(), demo.org_id)).toMatchObject({ plan: 'development', rate_limit_per_minute: null })
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

  it('keeps a limit set with the CLI, and has its plan limit again once the CLI sets it back to default', async () => {
    const first = await ensureDemo(inject('databaseUrl'), dataDir)
    await setOrganisationRateLimit(serviceSql(), first.org_id, 120)
    const changed = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(changed).toMatchObject({
      created: false,
      org_id: first.org_id,
      key: first.key,
      plan: 'development',
      rate_limit_per_minute: 120,
      overridden: true,
    })

    await setOrganisationRateLimit(serviceSql(), first.org_id, null)
    const reset = await ensureDemo(inject('databaseUrl'), dataDir)
    expect(reset).toMatchObject({ created: false, org_id: first.org_id, rate_limit_per_minute: 6000, overridden: false })
    const res = await api.call('GET', '/me', { key: first.key })
    expect(res.headers.get('x-ratelimit-limit')).toBe('6000')
  })

  it('moves an older demo to the development plan and clears the 6,000 it had given itself', async () => {
    const older = await olderDemo(6000)
    const demo = await ensureDemo(inject('databaseUrl'), older.dir)
    expect(demo).toMatchObject({
      created: false,
      org_id: older.org.id,
      plan: 'development',
      rate_limit_per_minute: 6000,
      overridden: false,
    })
    expect(await findOrganisation(serviceSql(), older.org.id)).toMatchObject({ plan: 'development', rate_limit_per_minute: null })
  })

  it('moves an older demo whose limit was changed with the CLI, and keeps that limit', async () => {
    const older = await olderDemo(120)
    const demo = await ensureDemo(inject('databaseUrl'), older.dir)
    expect(demo).toMatchObject({ plan: 'development', rate_limit_per_minute: 120, overridden: true })
    const res = await api.call('GET', '/me', { key: older.key })
    expect(res.headers.get('x-ratelimit-limit')).toBe('120')
  })

  it('leaves other organisations on their plan: a new free organisation may make 60 a minute', async () => {
    const org = await createOrganisation(serviceSql(), { name: `Not the demo ${crypto.randomUUID().slice(0, 8)}` })
    expect(org.plan).toBe('free')
    const { key } = await issueKey(serviceSql(), { orgId: org.id, agentId: null, mode: null, name: 'k', scopes: ['*'], expiresAt: null })
    const res = await api.call('GET', '/me', { key })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-ratelimit-limit')).toBe('60')
  })
})

describe('the startup banner', () => {
  const demo = { org_id: '0b6f7c1e-8a43-4a7c-9a53-1c2d3e4f5a6b', agent_id: 'a', key: 'pk_x' }

  it('says the demo is on the development plan and how to change its limit', () => {
    expect(describeDemoLimit({ ...demo, plan: 'development', rate_limit_per_minute: 6000, overridden: false })).toBe(
      "The demo organisation may make 6,000 requests a minute (the development plan's limit); organisations you " +
        'create start on the free plan.\n' +
        `  To change it:  npm run cli -- orgs set-rate-limit --org ${demo.org_id} --per-minute <n|default>`,
    )
  })

  it('says when the limit is one set with the CLI', () => {
    expect(describeDemoLimit({ ...demo, plan: 'development', rate_limit_per_minute: 120, overridden: true })).toContain(
      'may make 120 requests a minute (its own limit, set with the CLI, on the development plan)',
    )
  })
})
