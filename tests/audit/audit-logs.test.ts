import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditLogsRoute } from '../../functions/audit/list-audit-logs.ts'
import { verifyAuditLogsRoute } from '../../functions/audit/verify-audit-logs.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describeSecurity(listAuditLogsRoute, {}, () => api)
describeSecurity(verifyAuditLogsRoute, {}, () => api)

describe('the audit log', () => {
  it('lists every write made through the API, newest first, with who made it and how it ended', async () => {
    const t = await createTenant()
    const { key, id: keyId } = await t.keyWithId()
    const created = await api.call('POST', '/agent/api-keys', { key, body: { name: 'ci' } })
    const renamed = await api.call('PATCH', '/agent/org', { key, body: { name: 'Renamed' } })
    await api.call('PATCH', '/agent/org', { key, body: { name: '' } })
    await api.call('GET', '/agent/org', { key })
    const res = await api.call('GET', '/audit-logs', { key })
    expect(res.status).toBe(200)
    expect(res.body.has_more).toBe(false)
    expect(res.body.next_cursor).toBeNull()
    expect(res.body.data.map((e: { method: string; path: string; status: number }) => [e.method, e.path, e.status])).toEqual([
      ['PATCH', '/api/v1/agent/org', 400],
      ['PATCH', '/api/v1/agent/org', 200],
      ['POST', '/api/v1/agent/api-keys', 201],
    ])
    expect(res.body.data[1]).toMatchObject({
      key_id: keyId,
      user_id: null,
      agent_id: null,
      request_id: renamed.headers.get('x-request-id'),
    })
    expect(res.body.data[2].request_id).toBe(created.headers.get('x-request-id'))
  })

  it('pages with next_cursor and filters by key', async () => {
    const t = await createTenant()
    const first = await t.key()
    const second = await t.keyWithId()
    for (let i = 0; i < 3; i++) await api.call('PATCH', '/agent/org', { key: first, body: { name: `Name ${i}` } })
    await api.call('PATCH', '/agent/org', { key: second.key, body: { name: 'Other' } })
    const page1 = await api.call('GET', '/audit-logs?limit=3', { key: first })
    expect(page1.body.data).toHaveLength(3)
    expect(page1.body.has_more).toBe(true)
    const page2 = await api.call('GET', `/audit-logs?limit=3&cursor=${page1.body.next_cursor}`, { key: first })
    expect(page2.body.data).toHaveLength(1)
    expect(page2.body.has_more).toBe(false)
    const ids = [...page1.body.data, ...page2.body.data].map((e: { id: string }) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => b - a))
    const byKey = await api.call('GET', `/audit-logs?key_id=${second.id}`, { key: first })
    expect(byKey.body.data.map((e: { key_id: string }) => e.key_id)).toEqual([second.id])
  })

  it("shows an agent key only the writes made on its agent's behalf", async () => {
    const t = await createTenant()
    const mine = await t.key({ agent: 'agent' })
    const theirs = await t.key({ agent: 'otherAgent' })
    await api.call('POST', '/agent/api-keys', { key: mine, body: { name: 'mine' } })
    await api.call('POST', '/agent/api-keys', { key: theirs, body: { name: 'theirs' } })
    await api.call('PATCH', '/agent/org', { key: await t.key(), body: { name: 'Org-level' } })
    const res = await api.call('GET', '/audit-logs', { key: mine })
    expect(res.body.data.map((e: { agent_id: string }) => e.agent_id)).toEqual([t.agent.id])
  })

  it('rejects a bad limit or cursor with 400 naming the parameter', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=abc', 'cursor'],
      ['key_id=x', 'key_id'],
    ]) {
      const res = await api.call('GET', `/audit-logs?${query}`, { key })
      expect(res.status, query).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toContain(`${field}:`)
    }
  })
})

describe('an audit entry and the change it records', () => {
  it('commit together: when the entry cannot be written, the change is rolled back with it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const sql = serviceSql()
    const trigger = `refuse_audit_${t.org.id.replaceAll('-', '')}`
    // A failure inside the audit log, for this organisation only: the write it records must not survive it.
    await sql.unsafe(`
      create function agentry.${trigger}() returns trigger language plpgsql as $$
        begin raise exception 'audit log unavailable'; end $$;
      create trigger ${trigger} before insert on agentry.audit_log for each row
        when (new.org_id = '${t.org.id}') execute function agentry.${trigger}()`)
    try {
      const refused = await api.call('POST', '/agents', { key, body: { name: 'unrecorded' } })
      expect(refused.status).toBe(500)
      expect(refused.body.error.code).toBe('internal')
    } finally {
      await sql.unsafe(`drop trigger ${trigger} on agentry.audit_log; drop function agentry.${trigger}()`)
    }
    const agents = await api.call('GET', '/agents', { key })
    expect(agents.body.data.map((a: { name: string }) => a.name)).not.toContain('unrecorded')
    const recorded = await api.call('POST', '/agents', { key, body: { name: 'recorded' } })
    expect(recorded.status).toBe(201)
    const entries = await sql<{ method: string; path: string; status: number; request_id: string }[]>`
      select method, path, status, request_id from agentry.audit_log where org_id = ${t.org.id} order by id`
    expect(entries).toEqual([{ method: 'POST', path: '/api/v1/agents', status: 201, request_id: recorded.headers.get('x-request-id') }])
  })

  it('is recorded once, with its answer, when the route answers otherwise before anything commits', async () => {
    const t = await createTenant()
    const key = await t.key()
    // Deleting a key that does not exist finds nothing and answers 404: its transaction rolls back.
    const missing = await api.call('DELETE', '/agent/api-keys/00000000-0000-4000-8000-000000000000', { key })
    expect(missing.status).toBe(404)
    const entries = await serviceSql()<{ status: number }[]>`select status from agentry.audit_log where org_id = ${t.org.id}`
    expect(entries).toEqual([{ status: 404 }])
  })

  it('is corrected by an appended correction, never rewritten, when a committed write answers other than its success status', async () => {
    const t = await createTenant()
    const key = await t.key()
    const [env] = await serviceSql()<{ id: string }[]>`select id from agentry.environments where org_id = ${t.org.id} order by name limit 1`
    // Uploading text answers 200 when it replaces an entry and 201 when it makes one: the entry is written as 200.
    const made = await api.call('POST', `/knowledge/text?environment_id=${env.id}`, {
      key,
      body: { content: 'Refunds take five days.', namespace: 'docs' },
    })
    expect(made.status).toBe(201)
    const entries = await serviceSql()<{ id: string; status: number; corrects: string | null }[]>`
      select id::text, status, corrects::text from agentry.audit_log where org_id = ${t.org.id} order by id`
    expect(entries.map((e) => [e.status, e.corrects])).toEqual([
      [200, null],
      [201, entries[0].id],
    ])
    const listed = await api.call('GET', '/audit-logs', { key })
    expect(listed.body.data.map((e: { id: string; status: number }) => [e.id, e.status])).toEqual([[entries[0].id, 201]])
  })
})
