import { describe, expect, it } from 'vitest'
import { withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'

const claimsFor = (orgId: string, scopes: string[] = ['*'], agentId: string | null = null): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: orgId,
  agent_id: agentId,
  key_id: null,
  scopes,
})

describe('row-level security', () => {
  it('is enabled on every table in the agentry schema', async () => {
    const tables = await serviceSql()`
      select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'agentry' and c.relkind = 'r'`
    expect(tables.length).toBeGreaterThanOrEqual(8)
    expect(tables.filter((t) => !t.relrowsecurity).map((t) => t.relname)).toEqual([])
  })

  it("shows the authenticated role only its own organisation's rows, whatever the query asks for", async () => {
    const a = await createTenant()
    const b = await createTenant()
    const keyOfA = await a.keyWithId()
    await b.keyWithId()
    const seen = await withTenant(claimsFor(b.org.id), async (tx) => ({
      askedForA: await tx`select id from agentry.api_keys where org_id = ${a.org.id}`,
      orgs: await tx`select id from agentry.organisations`,
      agents: await tx`select id from agentry.agents where org_id = ${a.org.id}`,
      environments: await tx`select id from agentry.environments where org_id = ${a.org.id}`,
      buckets: await tx`select org_id from agentry.rate_limits`,
    }))
    expect(seen.askedForA).toEqual([])
    expect(seen.orgs.map((o) => o.id)).toEqual([b.org.id])
    expect(seen.agents).toEqual([])
    expect(seen.environments).toEqual([])
    expect(seen.buckets.map((r) => r.org_id)).toEqual([b.org.id])

    const revoked = await withTenant(
      claimsFor(b.org.id),
      (tx) => tx`update agentry.api_keys set status = 'revoked' where id = ${keyOfA.id} returning id`,
    )
    expect(revoked).toEqual([])
    const deleted = await withTenant(claimsFor(b.org.id), (tx) => tx`delete from agentry.api_keys where id = ${keyOfA.id} returning id`)
    expect(deleted).toEqual([])
    const [still] = await serviceSql()`select status from agentry.api_keys where id = ${keyOfA.id}`
    expect(still.status).toBe('active')
  })

  it('refuses to write a row into another organisation', async () => {
    const a = await createTenant()
    const b = await createTenant()
    await expect(
      withTenant(
        claimsFor(b.org.id),
        (tx) => tx`
        insert into agentry.api_keys (org_id, name, prefix, key_hash, scopes)
        values (${a.org.id}, 'planted', 'pk_00000000', ${new Uint8Array(32)}, '{*}')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it('enforces scopes in the policies too: no keys:read, no keys; no keys:write, no change', async () => {
    const a = await createTenant()
    const target = await a.keyWithId()
    const read = await withTenant(claimsFor(a.org.id, ['datasets:read']), (tx) => tx`select id from agentry.api_keys`)
    expect(read).toEqual([])
    const readOnly = await withTenant(
      claimsFor(a.org.id, ['keys:read']),
      (tx) => tx`update agentry.api_keys set status = 'revoked' where id = ${target.id} returning id`,
    )
    expect(readOnly).toEqual([])
    await expect(
      withTenant(
        claimsFor(a.org.id, ['keys:write']),
        (tx) => tx`
        insert into agentry.api_keys (org_id, name, prefix, key_hash, scopes)
        values (${a.org.id}, 'escalate', 'pk_00000000', ${crypto.getRandomValues(new Uint8Array(32))}, '{*}')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
  })

  it("confines agent claims to the agent's own rows", async () => {
    const a = await createTenant()
    const mine = await a.keyWithId({ agent: 'agent' })
    await a.keyWithId({ agent: 'otherAgent' })
    await a.keyWithId()
    const rows = await withTenant(claimsFor(a.org.id, ['*'], a.agent.id), async (tx) => ({
      keys: await tx`select id from agentry.api_keys`,
      agents: await tx`select id from agentry.agents`,
    }))
    expect(rows.keys.map((k) => k.id)).toEqual([mine.id])
    expect(rows.agents.map((k) => k.id)).toEqual([a.agent.id])
  })

  it('shows nothing at all without claims, and the key-checking functions are not callable as a tenant', async () => {
    const a = await createTenant()
    await a.keyWithId()
    const sql = serviceSql()
    const rows = await sql.begin(async (tx) => {
      await tx`set local role authenticated`
      return tx`select id from agentry.api_keys`
    })
    expect(rows).toEqual([])
    await expect(
      sql.begin(async (tx) => {
        await tx`set local role authenticated`
        return tx`select * from agentry.verify_key(${new Uint8Array(32)}, '{}')`
      }),
    ).rejects.toMatchObject({ code: '42501' })
  })
})
