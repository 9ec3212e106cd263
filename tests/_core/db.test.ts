import { describe, expect, it } from 'vitest'
import { database, withTenant, type TenantClaims } from '../../functions/_core/db.ts'
import { createTenant } from '../harness/tenants.ts'

const claimsFor = (orgId: string): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: orgId,
  agent_id: null,
  key_id: null,
  scopes: ['*'],
})

describe('a tenant transaction of one unsent statement', () => {
  it('runs it under RLS, as the tenant, inside the transaction', async () => {
    const a = await createTenant()
    const b = await createTenant()
    const { id } = await a.keyWithId()
    await b.keyWithId()
    const rows = await withTenant(
      claimsFor(a.org.id),
      (tx) => tx<{ id: string; role: string; in_transaction: boolean }[]>`
      select id, current_user as role, now() = statement_timestamp() as in_transaction from agentry.api_keys`,
    )
    expect(rows.map((r) => r.id)).toEqual([id])
    expect(rows[0].role).toBe('authenticated')
    // Inside BEGIN, now() is the transaction's start, which came before this statement's.
    expect(rows[0].in_transaction).toBe(false)
  })

  it("passes a failing statement's error on and leaves no transaction, role or claims behind", async () => {
    const a = await createTenant()
    await expect(withTenant(claimsFor(a.org.id), (tx) => tx`select 1 / 0`)).rejects.toMatchObject({ code: '22012' })
    await expect(withTenant(claimsFor(a.org.id), (tx) => tx`select * from agentry.no_such_table`)).rejects.toMatchObject({ code: '42P01' })
    // Every connection of the pool, used at once, is back to the service role with no claims.
    const states = await Promise.all(
      Array.from(
        { length: 10 },
        () => database()<{ role: string; claims: string | null }[]>`
        select current_user as role, nullif(current_setting('request.jwt.claims', true), '') as claims`,
      ),
    )
    for (const [state] of states) expect(state).toMatchObject({ role: 'postgres', claims: null })
    const after = await withTenant(claimsFor(a.org.id), (tx) => tx<{ n: number }[]>`select count(*)::int as n from agentry.organisations`)
    expect(after).toEqual([{ n: 1 }])
  })
})
