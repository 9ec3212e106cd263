// The audit log's retention is kept by the job runners: each prunes what has passed it when it starts and
// every hour after, whatever job kinds it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pruneAuditLog } from '../../functions/_core/audit-retention.ts'
import { startJobRunner } from '../../functions/_core/jobs/runner.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'

let drop: () => Promise<void>
beforeAll(async () => {
  // A database of this file's own: pruning reaches every organisation's log.
  drop = (await isolateDatabase()).drop
})
afterAll(async () => drop())

async function entryAged(orgId: string, days: number): Promise<string> {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.audit_log (org_id, method, path, status, request_id, created_at)
    values (${orgId}, 'POST', '/api/v1/agents', 201, ${`aged ${days}`}, now() - make_interval(days => ${days}))
    returning id::text`
  return row.id
}

const remaining = async (orgId: string) =>
  (await serviceSql()<{ request_id: string }[]>`select request_id from agentry.audit_log where org_id = ${orgId} order by seq`).map(
    (r) => r.request_id,
  )

describe('audit log retention', () => {
  it('is kept by a job runner as it starts: entries older than 365 days go, younger ones stay', async () => {
    const t = await createTenant()
    const other = await createTenant()
    for (const days of [400, 366, 364, 10]) await entryAged(t.org.id, days)
    await entryAged(other.org.id, 500)

    const runner = startJobRunner(serviceSql(), { handlers: {}, onError: (e) => console.error(e) })
    try {
      const deadline = Date.now() + 20_000
      while ((await remaining(t.org.id)).length > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    } finally {
      await runner.stop()
    }
    expect(await remaining(t.org.id)).toEqual(['aged 364', 'aged 10'])
    expect(await remaining(other.org.id)).toEqual([])
  })

  it('answers how many entries went, and nothing the second time', async () => {
    const t = await createTenant()
    await entryAged(t.org.id, 700)
    await entryAged(t.org.id, 3)
    expect(await pruneAuditLog(serviceSql())).toBe(1)
    expect(await pruneAuditLog(serviceSql())).toBe(0)
    expect(await remaining(t.org.id)).toEqual(['aged 3'])
  })
})
