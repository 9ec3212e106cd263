// The same rules the keys API applies, held by the row-level security policies themselves: a write made in a
// tenant transaction with the caller's claims, bypassing the API's own checks, is refused all the same.
import { describe, expect, it } from 'vitest'
import { withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

const claimsOf = (
  t: Tenant,
  o: { keyId?: string | null; userId?: string | null; scopes?: string[]; agentId?: string | null } = {},
): TenantClaims => ({
  role: 'authenticated',
  sub: o.userId ?? null,
  org_id: t.org.id,
  agent_id: o.agentId ?? null,
  key_id: o.keyId ?? null,
  scopes: o.scopes ?? ['*'],
})

/** Inserts a key row straight through the policies, as a handler that skipped the API's checks would. */
function plantKey(claims: TenantClaims, row: { agentId?: string | null; mode?: 'live' | 'test' | null; expiresAt?: Date | null }) {
  return withTenant(
    claims,
    (tx) => tx`
    insert into agentry.api_keys (org_id, agent_id, mode, name, prefix, key_hash, scopes, expires_at)
    values (${claims.org_id}, ${row.agentId ?? null}, ${row.mode ?? null}, 'planted', 'pk_00000000',
            ${crypto.getRandomValues(new Uint8Array(32))}, '{keys:read}', ${row.expiresAt ?? null})
    returning id`,
  )
}

const inMinutes = (n: number) => new Date(Date.now() + n * 60_000)

describe('the api_keys policies', () => {
  it('refuse a key that outlives the expiring key creating it, or has no expiry at all', async () => {
    const t = await createTenant()
    const creator = await t.keyWithId({ expiresAt: inMinutes(60) })
    const claims = claimsOf(t, { keyId: creator.id })
    await expect(plantKey(claims, { expiresAt: null })).rejects.toMatchObject({ code: '42501' })
    await expect(plantKey(claims, { expiresAt: inMinutes(61) })).rejects.toMatchObject({ code: '42501' })
    expect(await plantKey(claims, { expiresAt: inMinutes(59) })).toHaveLength(1)
  })

  it("read the creator's expiry as it is now, so a key in a rotation's grace period is held to its end", async () => {
    const t = await createTenant()
    const old = await t.keyWithId()
    const claims = claimsOf(t, { keyId: old.id })
    expect(await plantKey(claims, { expiresAt: null })).toHaveLength(1)
    await serviceSql()`update agentry.api_keys set expires_at = now() + interval '10 minutes' where id = ${old.id}`
    await expect(plantKey(claims, { expiresAt: null })).rejects.toMatchObject({ code: '42501' })
    await expect(plantKey(claims, { expiresAt: inMinutes(60) })).rejects.toMatchObject({ code: '42501' })
  })

  it('bind keys only: a signed-in user creates keys with any expiry, or none', async () => {
    const t = await createTenant()
    expect(await plantKey(claimsOf(t, { userId: crypto.randomUUID() }), { expiresAt: null })).toHaveLength(1)
  })

  it('let a test key create test keys only', async () => {
    const t = await createTenant()
    const testKey = await t.keyWithId({ agent: 'agent', mode: 'test' })
    const claims = claimsOf(t, { keyId: testKey.id, agentId: t.agent.id })
    await expect(plantKey(claims, { agentId: t.agent.id, mode: 'live' })).rejects.toMatchObject({ code: '42501' })
    expect(await plantKey(claims, { agentId: t.agent.id, mode: 'test' })).toHaveLength(1)
    const liveKey = await t.keyWithId({ agent: 'agent', mode: 'live' })
    expect(await plantKey(claimsOf(t, { keyId: liveKey.id, agentId: t.agent.id }), { agentId: t.agent.id, mode: 'live' })).toHaveLength(1)
  })

  it('let no one revoke, expire or delete a key holding a scope they lack', async () => {
    const t = await createTenant()
    const broad = await t.keyWithId({ scopes: ['*'] })
    const narrow = claimsOf(t, { scopes: ['keys:write'] })
    const revoked = await withTenant(narrow, (tx) => tx`update agentry.api_keys set status = 'revoked' where id = ${broad.id} returning id`)
    expect(revoked).toEqual([])
    const expired = await withTenant(narrow, (tx) => tx`update agentry.api_keys set expires_at = now() where id = ${broad.id} returning id`)
    expect(expired).toEqual([])
    const deleted = await withTenant(narrow, (tx) => tx`delete from agentry.api_keys where id = ${broad.id} returning id`)
    expect(deleted).toEqual([])
    const [still] = await serviceSql()`select status, expires_at from agentry.api_keys where id = ${broad.id}`
    expect(still).toEqual({ status: 'active', expires_at: null })

    const peer = await t.keyWithId({ scopes: ['keys:write'] })
    const peerRevoked = await withTenant(
      narrow,
      (tx) => tx`update agentry.api_keys set status = 'revoked' where id = ${peer.id} returning id`,
    )
    expect(peerRevoked).toEqual([{ id: peer.id }])
  })
})

describe('the idempotent_requests policy', () => {
  it("shows each credential its own Idempotency-Keys only, and refuses a row written in another's name", async () => {
    const t = await createTenant()
    const first = await t.keyWithId()
    const second = await t.keyWithId()
    await withTenant(
      claimsOf(t, { keyId: first.id }),
      (tx) => tx`
      insert into agentry.idempotent_requests (org_id, caller_id, key, route, request_hash)
      values (${t.org.id}, ${first.id}, 'shared-string', 'POST /chat/x', 'h')`,
    )
    const seenBySecond = await withTenant(claimsOf(t, { keyId: second.id }), (tx) => tx`select key from agentry.idempotent_requests`)
    expect(seenBySecond).toEqual([])
    const seenByFirst = await withTenant(claimsOf(t, { keyId: first.id }), (tx) => tx`select key from agentry.idempotent_requests`)
    expect(seenByFirst).toEqual([{ key: 'shared-string' }])
    await expect(
      withTenant(
        claimsOf(t, { keyId: second.id }),
        (tx) => tx`
        insert into agentry.idempotent_requests (org_id, caller_id, key, route, request_hash)
        values (${t.org.id}, ${first.id}, 'planted', 'POST /chat/x', 'h')`,
      ),
    ).rejects.toMatchObject({ code: '42501' })
  })
})
