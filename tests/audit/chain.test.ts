import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sealAuditLog } from '../../functions/_core/audit-seal.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

async function writesOf(key: string, n: number) {
  for (let i = 0; i < n; i++) expect((await api.call('PATCH', '/agent/org', { key, body: { name: `Name ${i}` } })).status).toBe(200)
}

/** The organisation's entries in chain order, once the sealer has linked what has committed. */
const entriesOf = async (t: Tenant) => {
  await sealAuditLog(serviceSql(), t.org.id)
  return serviceSql()<{ id: string; seq: string; created_at: string }[]>`
    select a.id::text, a.seq::text, to_json(a.created_at) #>> '{}' as created_at
    from agentry.audit_log a where a.org_id = ${t.org.id} order by a.seq`
}

const verify = async (key: string) => {
  const res = await api.call('GET', '/audit-logs/verify', { key })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

/** Changes the log as only a superuser can: with triggers off for this transaction alone. */
const behindTheTriggersBack = (change: (tx: postgres.TransactionSql) => Promise<unknown>) =>
  serviceSql().begin(async (tx) => {
    await tx`set local session_replication_role = replica`
    await change(tx)
  })

describe('the audit log is append-only', () => {
  it('refuses to update, delete or truncate entries, even on the service connection', async () => {
    const t = await createTenant()
    await writesOf(await t.key(), 1)
    const sql = serviceSql()
    const refusal = /the audit log is append-only/
    await expect(sql`update agentry.audit_log set status = 500 where org_id = ${t.org.id}`).rejects.toThrow(refusal)
    await expect(sql`delete from agentry.audit_log where org_id = ${t.org.id}`).rejects.toThrow(refusal)
    await expect(sql`truncate agentry.audit_log`).rejects.toThrow(refusal)
    await expect(
      sql.begin(async (tx) => {
        await tx`set local role service_role`
        await tx`delete from agentry.audit_log where org_id = ${t.org.id}`
      }),
    ).rejects.toThrow()
    expect(await entriesOf(t)).toHaveLength(1)
  })

  it('prunes only entries older than the retention, through prune_audit_log', async () => {
    const t = await createTenant()
    const sql = serviceSql()
    for (const days of [500, 400])
      await sql`
        insert into agentry.audit_log (org_id, method, path, status, request_id, created_at)
        values (${t.org.id}, 'POST', '/api/v1/agents', 201, 'old', now() - make_interval(days => ${days}))`
    await writesOf(await t.key(), 2)
    await expect(sql`select agentry.prune_audit_log(now() - interval '364 days')`).rejects.toThrow(/kept for 365 days/)
    await expect(sql`select agentry.prune_audit_log(null)`).rejects.toThrow(/kept for 365 days/)
    const recent = (await entriesOf(t)).filter((e) => Date.parse(e.created_at) > Date.now() - 86_400_000)
    await expect(sql`delete from agentry.audit_log where id = ${recent[0].id}`).rejects.toThrow(/append-only/)

    await sql`select agentry.prune_audit_log(now() - interval '366 days')`
    expect((await entriesOf(t)).map((e) => e.seq)).toEqual(['3', '4'])
    // The oldest kept entry anchors the chain: what was pruned is not a break.
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 2, first_broken: null, unsealed: 0 })
  })

  it('goes with its organisation when the organisation itself is deleted', async () => {
    const t = await createTenant()
    await writesOf(await t.key(), 2)
    await serviceSql()`delete from agentry.organisations where id = ${t.org.id}`
    expect(await entriesOf(t)).toEqual([])
  })
})

describe('the audit log hash chain', () => {
  it('links each entry to the one before it within the organisation', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const key = await t.key()
    await writesOf(key, 2)
    await writesOf(await other.key(), 1)
    await writesOf(key, 1)
    await sealAuditLog(serviceSql(), t.org.id)
    const rows = await serviceSql()<{ seq: string; prev_hash: string; hash: string }[]>`
      select a.seq::text, encode(a.prev_hash, 'hex') as prev_hash, encode(a.hash, 'hex') as hash
      from agentry.audit_log a where a.org_id = ${t.org.id} order by a.seq`
    expect(rows.map((r) => r.seq)).toEqual(['1', '2', '3'])
    expect(rows[0].prev_hash).toBe('0'.repeat(64))
    expect(rows[1].prev_hash).toBe(rows[0].hash)
    expect(rows[2].prev_hash).toBe(rows[1].hash)
    expect(await verify(key)).toEqual({ valid: true, checked: 3, first_broken: null, unsealed: 0 })
  })

  it('names the first entry changed behind the triggers’ back', async () => {
    const t = await createTenant()
    const key = await t.key()
    await writesOf(key, 4)
    const entries = await entriesOf(t)
    await behindTheTriggersBack((tx) => tx`update agentry.audit_log set status = 201 where id = ${entries[1].id}`)
    await behindTheTriggersBack((tx) => tx`update agentry.audit_log set path = '/elsewhere' where id = ${entries[3].id}`)
    expect(await verify(key)).toEqual({
      valid: false,
      checked: 2,
      first_broken: { id: entries[1].id, created_at: entries[1].created_at },
      unsealed: 0,
    })
  })

  it('names the entry after one removed behind the triggers’ back, and shows an agent key the same walk', async () => {
    const t = await createTenant()
    const key = await t.key()
    await writesOf(key, 3)
    const entries = await entriesOf(t)
    await behindTheTriggersBack((tx) => tx`delete from agentry.audit_log where id = ${entries[1].id}`)
    const expected = { valid: false, checked: 2, first_broken: { id: entries[2].id, created_at: entries[2].created_at }, unsealed: 0 }
    expect(await verify(key)).toEqual(expected)
    expect(await verify(await t.key({ agent: 'agent', scopes: ['audit-logs:read'] }))).toEqual(expected)
  })

  it('walks a chain longer than one batch', async () => {
    const t = await createTenant()
    await serviceSql()`
      insert into agentry.audit_log (org_id, method, path, status, request_id)
      select ${t.org.id}, 'POST', '/api/v1/agents/' || i, 201, 'bulk' from generate_series(1, 4500) i`
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 4500, first_broken: null, unsealed: 0 })
    const [tampered] = await serviceSql()<{ id: string }[]>`
      select id::text from agentry.audit_log where org_id = ${t.org.id} and seq = 4321`
    await behindTheTriggersBack((tx) => tx`update agentry.audit_log set request_id = 'forged' where id = ${tampered.id}`)
    const broken = await verify(await t.key())
    expect([broken.valid, broken.checked, broken.first_broken.id]).toEqual([false, 4321, tampered.id])
  })

  it('does not fork when one organisation writes from many connections at once', async () => {
    const t = await createTenant()
    const pool = postgres(process.env.DATABASE_URL as string, { max: 8, onnotice: () => {} })
    try {
      await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) => pool`
            insert into agentry.audit_log (org_id, method, path, status, request_id)
            values (${t.org.id}, 'POST', ${`/api/v1/agents/${i}`}, 201, 'parallel')`,
        ),
      )
    } finally {
      await pool.end()
    }
    expect((await entriesOf(t)).map((e) => Number(e.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 40, first_broken: null, unsealed: 0 })
  })

  it('makes no writer wait for another, and seals entries in the order they committed', async () => {
    const t = await createTenant()
    const url = process.env.DATABASE_URL as string
    const holder = postgres(url, { max: 1, onnotice: () => {} })
    const other = postgres(url, { max: 1, onnotice: () => {} })
    const insert = (sql: postgres.Sql, requestId: string) =>
      sql`insert into agentry.audit_log (org_id, method, path, status, request_id) values (${t.org.id}, 'POST', '/api/v1/x', 201, ${requestId})`
    try {
      let release = () => {}
      const released = new Promise<void>((resolve) => {
        release = resolve
      })
      let held = () => {}
      const holding = new Promise<void>((resolve) => {
        held = resolve
      })
      // An open transaction that has written one of the organisation's entries.
      const open = holder.begin(async (tx) => {
        await insert(tx as unknown as postgres.Sql, 'written first, committed last')
        held()
        await released
      })
      await holding
      await other`select 1`
      const started = performance.now()
      await insert(other, 'written second, committed first')
      const waited = performance.now() - started
      // Sealing links what has committed and leaves the open transaction's entry for later.
      await sealAuditLog(serviceSql(), t.org.id)
      const sealedSoFar = await serviceSql()<{ seq: string | null; request_id: string }[]>`
        select a.seq::text, a.request_id from agentry.audit_log a where a.org_id = ${t.org.id} order by a.id`
      expect(sealedSoFar).toEqual([{ seq: '1', request_id: 'written second, committed first' }])
      release()
      await open
      // Generous: the second write waits for no lock, only for a busy machine.
      expect(waited).toBeLessThan(400)
    } finally {
      await holder.end()
      await other.end()
    }
    const chained = await serviceSql()<{ seq: string; request_id: string }[]>`
      select a.seq::text, a.request_id from agentry.audit_log a where a.org_id = ${t.org.id} and a.seq is not null order by a.seq`
    expect(chained).toEqual([{ seq: '1', request_id: 'written second, committed first' }])
    expect((await verify(await t.key())).unsealed).toBe(0)
    expect((await entriesOf(t)).map((e) => e.seq)).toEqual(['1', '2'])
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 2, first_broken: null, unsealed: 0 })
  })

  it('leaves entries unsealed while another sealer holds the chain, and seals none twice when sealers race', async () => {
    const t = await createTenant()
    await serviceSql()`
      insert into agentry.audit_log (org_id, method, path, status, request_id)
      select ${t.org.id}, 'POST', '/api/v1/agents/' || i, 201, 'race' from generate_series(1, 300) i`
    const unsealed = async () =>
      (
        await serviceSql()<{ n: number }[]>`
          select count(*)::int as n from agentry.audit_log where org_id = ${t.org.id} and hash is null`
      )[0].n
    const holder = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} })
    try {
      await holder.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(1635083636, hashtext(${t.org.id}::text))`
        // A sweep passes over a chain another sealer holds rather than waiting for it.
        await sealAuditLog(serviceSql())
        expect(await unsealed()).toBe(300)
      })
    } finally {
      await holder.end()
    }
    await Promise.all([sealAuditLog(serviceSql(), t.org.id), sealAuditLog(serviceSql(), t.org.id), sealAuditLog(serviceSql())])
    expect(await unsealed()).toBe(0)
    expect((await entriesOf(t)).map((e) => Number(e.seq))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 300, first_broken: null, unsealed: 0 })
  })

  it('lets a seal fill in an unsealed entry’s link only, once', async () => {
    const t = await createTenant()
    await writesOf(await t.key(), 1)
    const sql = serviceSql()
    const [entry] = await sql<{ id: string }[]>`select id::text from agentry.audit_log where org_id = ${t.org.id}`
    // Unsealed, its content still cannot change along with a seal.
    await expect(
      sql`update agentry.audit_log set seq = 1, prev_hash = '\\x00', hash = '\\x00', status = 500 where id = ${entry.id}`,
    ).rejects.toThrow(/append-only/)
    await sealAuditLog(sql, t.org.id)
    await expect(sql`update agentry.audit_log set seq = 2, prev_hash = '\\x00', hash = '\\x00' where id = ${entry.id}`).rejects.toThrow(
      /append-only/,
    )
    expect(await verify(await t.key())).toEqual({ valid: true, checked: 1, first_broken: null, unsealed: 0 })
  })
})
