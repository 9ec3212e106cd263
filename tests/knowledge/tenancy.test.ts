// Database-level tenancy of the knowledge tables: whatever SQL another organisation's claims run, they read
// none of the victim's bases, links, items or chunks and change none; an agent's claims reach the bases
// linked to that agent only; tenants never write chunks or make bases and links with an agent's claims.
import { beforeAll, describe, expect, it } from 'vitest'
import { type TenantClaims, withTenant } from '../../functions/_core/db.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { rowsOf, type Victim, victim } from '../harness/victim.ts'

const claimsOf = (t: Tenant, agentId: string | null = null, scopes = ['*']): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: t.org.id,
  agent_id: agentId,
  key_id: null,
  scopes,
})

let owner: Victim
let stranger: Tenant
beforeAll(async () => {
  owner = await victim()
  stranger = await createTenant()
})

/** Runs one statement with the claims, and answers its row count or the refusal's SQLSTATE. */
const run = (claims: TenantClaims, statement: string, params: string[] = [owner.tenant.org.id]) =>
  withTenant(claims, (tx) => tx.unsafe(statement, params)).then(
    (rows) => ({ rows: rows.length }),
    (err: { code?: string }) => ({ refused: err.code }),
  )

// (table, a change a tenant may try, what Postgres does with it on another organisation's rows)
const tables = [
  { table: 'knowledge_bases', change: `name = 'taken over'`, update: 'nothing', remove: 'nothing' },
  { table: 'knowledge_base_agents', change: `agent_id = agent_id`, update: 'refused', remove: 'nothing' },
  { table: 'knowledge_items', change: `title = 'taken over'`, update: 'nothing', remove: 'nothing' },
  { table: 'knowledge_chunks', change: `text = 'taken over'`, update: 'refused', remove: 'refused' },
] as const

describe.each(tables)('agentry.$table', ({ table, change, update, remove }) => {
  it("is read by its own organisation's claims and by the linked agent's", async () => {
    expect(await run(claimsOf(owner.tenant), `select 1 from agentry.${table} where org_id = $1`)).toEqual({ rows: 1 })
    expect(await run(claimsOf(owner.tenant, owner.tenant.agent.id), `select 1 from agentry.${table} where org_id = $1`)).toEqual({
      rows: 1,
    })
  })

  it("shows none of its rows to the organisation's other agent, or without a knowledge scope", async () => {
    expect(await run(claimsOf(owner.tenant, owner.tenant.otherAgent.id), `select 1 from agentry.${table} where org_id = $1`)).toEqual({
      rows: 0,
    })
    expect(await run(claimsOf(owner.tenant, null, ['agents:read', 'datasets:write']), `select 1 from agentry.${table}`, [])).toEqual({
      rows: 0,
    })
  })

  it("shows another organisation's claims none of the victim's rows, even asked for by org_id", async () => {
    expect(await run(claimsOf(stranger), `select 1 from agentry.${table} where org_id = $1`)).toEqual({ rows: 0 })
  })

  it(`lets another organisation's claims change none of them (${update}) and remove none (${remove})`, async () => {
    const before = await rowsOf(owner.tenant.org.id)
    const outcome = { nothing: { rows: 0 }, refused: { refused: '42501' } }
    expect(await run(claimsOf(stranger), `update agentry.${table} set ${change} where org_id = $1 returning 1`)).toEqual(outcome[update])
    expect(await run(claimsOf(stranger), `delete from agentry.${table} where org_id = $1 returning 1`)).toEqual(outcome[remove])
    expect(await rowsOf(owner.tenant.org.id)).toEqual(before)
  })
})

describe('writing knowledge rows', () => {
  it("refuses another organisation's claims a base, a link or an item in the victim's name", async () => {
    const { tenant, traces } = owner
    const before = await rowsOf(tenant.org.id)
    for (const plant of [
      `insert into agentry.knowledge_bases (org_id, name) values ($1, 'planted')`,
      `insert into agentry.knowledge_base_agents (org_id, base_id, agent_id) values ($1, '${traces['knowledge base id']}', '${tenant.otherAgent.id}')`,
      `insert into agentry.knowledge_items (org_id, base_id, content, text) values ($1, '${traces['knowledge base id']}', 'x', 'x')`,
    ]) {
      expect(await run(claimsOf(stranger), plant), plant).toEqual({ refused: '42501' })
    }
    expect(await rowsOf(tenant.org.id)).toEqual(before)
  })

  it("refuses an agent's claims a new base or a link to another base, and every tenant a chunk", async () => {
    const t = await createTenant()
    const agent = claimsOf(t, t.agent.id)
    expect(await run(agent, `insert into agentry.knowledge_bases (org_id, name) values ($1, 'mine')`, [t.org.id])).toEqual({
      refused: '42501',
    })
    const [{ id }] = await withTenant(
      claimsOf(t),
      (tx) => tx`insert into agentry.knowledge_bases (org_id, name) values (${t.org.id}, 'b') returning id`,
    )
    const link = `insert into agentry.knowledge_base_agents (org_id, base_id, agent_id) values ($1, '${id}', '${t.agent.id}')`
    expect(await run(agent, link, [t.org.id])).toEqual({ refused: '42501' })
    const [{ id: itemId }] = await withTenant(
      claimsOf(t),
      (tx) => tx`insert into agentry.knowledge_items (org_id, base_id, content, text) values (${t.org.id}, ${id}, 'x', 'x') returning id`,
    )
    const chunk = `insert into agentry.knowledge_chunks (org_id, base_id, item_id, position, text, content_version) values ($1, '${id}', '${itemId}', 0, 'x', 1)`
    expect(await run(claimsOf(t), chunk, [t.org.id])).toEqual({ refused: '42501' })
  })

  it('keeps status, progress and version out of a tenant’s reach', async () => {
    const t = await createTenant()
    const [{ id }] = await withTenant(
      claimsOf(t),
      (tx) => tx`insert into agentry.knowledge_bases (org_id, name) values (${t.org.id}, 'b') returning id`,
    )
    for (const column of [`status = 'ready'`, 'chunks_done = 1', 'content_version = 9']) {
      expect(await run(claimsOf(t), `update agentry.knowledge_items set ${column} where base_id = '${id}'`, [])).toEqual({
        refused: '42501',
      })
    }
  })
})
