import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

type Entry = {
  id: string
  method: string
  path: string
  status: number
  key_id: string | null
  user_id: string | null
  agent_id: string | null
}

/** Entries written at chosen times, straight into the log as the API would write them. */
async function written(t: Tenant, entries: { method: string; path: string; at: string; key?: string; user?: string; agent?: string }[]) {
  for (const e of entries)
    await serviceSql()`
      insert into agentry.audit_log (org_id, key_id, user_id, agent_id, method, path, status, request_id, created_at)
      values (${t.org.id}, ${e.key ?? null}, ${e.user ?? null}, ${e.agent ?? null}, ${e.method}, ${e.path}, 200, 'req', ${e.at})`
}

const listed = async (key: string, query: string) => {
  const res = await api.call('GET', `/audit-logs?${query}`, { key })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body.data as Entry[]
}

describe('the audit log filtered', () => {
  it('by actor finds the writes of one key, one user or one agent', async () => {
    const t = await createTenant()
    const { key, id: keyId } = await t.keyWithId()
    const user = crypto.randomUUID()
    await written(t, [
      { method: 'POST', path: '/api/v1/agents', at: '2026-01-01T00:00:00Z', key: keyId },
      { method: 'POST', path: '/api/v1/agents', at: '2026-01-02T00:00:00Z', user },
      { method: 'PATCH', path: `/api/v1/agents/${t.agent.id}`, at: '2026-01-03T00:00:00Z', key: keyId, agent: t.agent.id },
    ])
    expect((await listed(key, `actor=key:${keyId}`)).map((e) => e.key_id)).toEqual([keyId, keyId])
    expect((await listed(key, `actor=user:${user}`)).map((e) => e.user_id)).toEqual([user])
    expect((await listed(key, `actor=agent:${t.agent.id.toUpperCase()}`)).map((e) => e.agent_id)).toEqual([t.agent.id])
    expect(await listed(key, `actor=agent:${t.otherAgent.id}`)).toEqual([])
  })

  it('by action finds the writes made with one method', async () => {
    const t = await createTenant()
    const key = await t.key()
    await written(t, [
      { method: 'POST', path: '/api/v1/agents', at: '2026-01-01T00:00:00Z' },
      { method: 'DELETE', path: '/api/v1/agents/x', at: '2026-01-02T00:00:00Z' },
      { method: 'PATCH', path: '/api/v1/agents/x', at: '2026-01-03T00:00:00Z' },
    ])
    expect((await listed(key, 'action=DELETE')).map((e) => e.method)).toEqual(['DELETE'])
    expect((await listed(key, 'action=PUT')).map((e) => e.method)).toEqual([])
  })

  it('by resource finds the writes to a path and below it, and no path that merely starts alike', async () => {
    const t = await createTenant()
    const key = await t.key()
    await written(t, [
      { method: 'POST', path: '/api/v1/agents', at: '2026-01-01T00:00:00Z' },
      { method: 'PATCH', path: '/api/v1/agents/a1', at: '2026-01-02T00:00:00Z' },
      { method: 'POST', path: '/api/v1/agents/a1/trigger', at: '2026-01-03T00:00:00Z' },
      { method: 'POST', path: '/api/v1/agents-archive', at: '2026-01-04T00:00:00Z' },
      { method: 'POST', path: '/api/v1/agents_x', at: '2026-01-05T00:00:00Z' },
    ])
    expect((await listed(key, 'resource=/api/v1/agents')).map((e) => e.path)).toEqual([
      '/api/v1/agents/a1/trigger',
      '/api/v1/agents/a1',
      '/api/v1/agents',
    ])
    expect((await listed(key, 'resource=/api/v1/agents/a1/')).map((e) => e.path)).toEqual([
      '/api/v1/agents/a1/trigger',
      '/api/v1/agents/a1',
    ])
    // LIKE's wildcards in the filter are taken literally.
    expect((await listed(key, 'resource=/api/v1/agents_')).map((e) => e.path)).toEqual([])
  })

  it('by time takes from inclusive and to exclusive, and pages within the filter', async () => {
    const t = await createTenant()
    const key = await t.key()
    await written(
      t,
      ['2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z'].map((at) => ({
        method: 'POST',
        path: `/api/v1/at/${at.slice(0, 10)}`,
        at,
      })),
    )
    const range = 'from=2026-03-02T00:00:00Z&to=2026-03-04T00:00:00%2B00:00'
    expect((await listed(key, range)).map((e) => e.path)).toEqual(['/api/v1/at/2026-03-03', '/api/v1/at/2026-03-02'])
    const page1 = await api.call('GET', `/audit-logs?${range}&limit=1`, { key })
    expect(page1.body.has_more).toBe(true)
    const page2 = await api.call('GET', `/audit-logs?${range}&limit=1&cursor=${page1.body.next_cursor}`, { key })
    expect(page2.body.data.map((e: Entry) => e.path)).toEqual(['/api/v1/at/2026-03-02'])
    expect(page2.body.has_more).toBe(false)
    expect(await listed(key, 'from=2026-03-02T00:00:00Z&to=2026-03-02T00:00:00Z')).toEqual([])
  })

  it('combines filters', async () => {
    const t = await createTenant()
    const { key, id: keyId } = await t.keyWithId()
    await written(t, [
      { method: 'POST', path: '/api/v1/agents', at: '2026-01-01T00:00:00Z', key: keyId },
      { method: 'POST', path: '/api/v1/agents', at: '2026-02-01T00:00:00Z', key: keyId },
      { method: 'DELETE', path: '/api/v1/agents/a', at: '2026-02-02T00:00:00Z', key: keyId },
      { method: 'POST', path: '/api/v1/webhooks', at: '2026-02-03T00:00:00Z', key: keyId },
    ])
    const found = await listed(key, `actor=key:${keyId}&action=POST&resource=/api/v1/agents&from=2026-01-15T00:00:00Z`)
    expect(found.map((e) => [e.method, e.path])).toEqual([['POST', '/api/v1/agents']])
  })

  it('rejects a bad filter with 400 naming it, and a from after to', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const [query, field] of [
      ['actor=someone', 'actor'],
      ['actor=org:00000000-0000-4000-8000-000000000000', 'actor'],
      ['actor=key:not-a-uuid', 'actor'],
      ['action=GET', 'action'],
      ['action=delete', 'action'],
      ['resource=agents', 'resource'],
      ['resource=/a%20b', 'resource'],
      ['from=yesterday', 'from'],
      ['to=2026-13-01T00:00:00Z', 'to'],
      ['from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z', 'from'],
    ]) {
      const res = await api.call('GET', `/audit-logs?${query}`, { key })
      expect(res.status, query).toBe(400)
      expect(res.body.error.code, query).toBe('validation_failed')
      expect(res.body.error.message, query).toContain(`${field}:`)
    }
  })
})

describe('the audit log query plan', () => {
  it('reads an index, not the whole table, for the listing and its common filters', async () => {
    const plans: Record<string, string> = {}
    const key = crypto.randomUUID()
    await serviceSql()
      .begin(async (tx) => {
        // Many organisations' entries, made and rolled back within this transaction: the plan is that of a full log.
        const orgs = await tx<{ id: string }[]>`
          insert into agentry.organisations (name, plan) select 'plan ' || i, 'free' from generate_series(1, 40) i returning id`
        await tx`
          insert into agentry.audit_log (org_id, key_id, agent_id, method, path, status, request_id, created_at)
          select o.id, case when i % 10 = 0 then ${key}::uuid end, null, 'POST', '/api/v1/agents/' || i, 201, 'r',
                 now() - make_interval(mins => i)
          from unnest(${orgs.map((o) => o.id)}::uuid[]) o(id), generate_series(1, 500) i`
        await tx`analyze agentry.audit_log`
        const org = orgs[7].id
        await tx.unsafe(
          `set local role authenticated; set local request.jwt.claims = '${JSON.stringify({ org_id: org, scopes: ['audit-logs:read'] })}'`,
        )
        const plan = async (name: string, where: string) => {
          const rows = await tx.unsafe(
            `explain select a.id from agentry.audit_log a where a.corrects is null ${where} order by a.id desc limit 51`,
          )
          plans[name] = rows.map((r) => r['QUERY PLAN']).join('\n')
        }
        await plan('all', '')
        await plan('key', `and a.key_id = '${key}'`)
        await plan('time', `and a.created_at >= now() - interval '1 hour' and a.created_at < now() - interval '30 minutes'`)
        await plan('cursor', 'and a.id < 9223372036854775807')
        throw new Error('rolled back')
      })
      .catch((e) => {
        if ((e as Error).message !== 'rolled back') throw e
      })
    for (const [name, text] of Object.entries(plans)) {
      expect(text, name).toMatch(/Index (Only )?Scan|Bitmap Index Scan/)
      expect(text, name).not.toMatch(/Seq Scan on audit_log/)
    }
  })
})
