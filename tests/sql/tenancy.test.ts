// Database-level tenancy for the tables the API's own tests reach only through routes: whatever SQL another
// organisation's claims run, they read none of the victim's rows and change none. Keys, organisations,
// agents, environments and rate limits are covered in tests/_core/rls.test.ts, datasets in
// tests/datasets/tenancy.test.ts.
import { beforeAll, describe, expect, it } from 'vitest'
import { type TenantClaims, withTenant } from '../../functions/_core/db.ts'
import { createTenant, type Tenant } from '../harness/tenants.ts'
import { rowsOf, type Victim, victim } from '../harness/victim.ts'

const claimsOf = (t: Tenant): TenantClaims => ({
  role: 'authenticated',
  sub: null,
  org_id: t.org.id,
  agent_id: null,
  key_id: null,
  scopes: ['*'],
})

/**
 * Each table, a change a tenant may try on it, and what Postgres does with a change or removal of another
 * organisation's rows: 'nothing' where tenants hold the privilege and the policies leave no row to touch,
 * 'refused' (42501) where tenants never hold it at all.
 */
const tables = [
  { table: 'conversations', change: `title = 'taken over'`, update: 'nothing', remove: 'nothing' },
  { table: 'messages', change: `content = 'taken over'`, update: 'refused', remove: 'refused' },
  { table: 'usage_records', change: `prompt_tokens = 0`, update: 'refused', remove: 'refused' },
  { table: 'webhook_endpoints', change: `description = 'taken over'`, update: 'nothing', remove: 'nothing' },
  { table: 'webhook_deliveries', change: `status = 'pending'`, update: 'nothing', remove: 'refused' },
  { table: 'webhook_attempts', change: `error = 'taken over'`, update: 'refused', remove: 'refused' },
  { table: 'events', change: `type = 'taken.over'`, update: 'refused', remove: 'refused' },
  { table: 'audit_log', change: `path = '/taken-over'`, update: 'refused', remove: 'refused' },
] as const

let owner: Victim
let stranger: Tenant
beforeAll(async () => {
  owner = await victim()
  stranger = await createTenant()
})

/** Runs one statement with the claims, and answers its rows or the refusal's SQLSTATE. */
const asTenant = (t: Tenant, statement: string, params: string[] = [owner.tenant.org.id]) =>
  withTenant(claimsOf(t), (tx) => tx.unsafe(statement, params)).then(
    (rows) => ({ rows: rows.length }),
    (err: { code?: string }) => ({ refused: err.code }),
  )

describe.each(tables)('agentry.$table', ({ table, change, update, remove }) => {
  it("is read by its own organisation's claims: the victim's row is there to find", async () => {
    expect(await asTenant(owner.tenant, `select 1 from agentry.${table} where org_id = $1 limit 1`)).toEqual({ rows: 1 })
  })

  it("shows another organisation's claims none of the victim's rows, even asked for by org_id", async () => {
    expect(await asTenant(stranger, `select 1 from agentry.${table} where org_id = $1`)).toEqual({ rows: 0 })
  })

  it(`lets another organisation's claims change none of them (${update}) and remove none (${remove})`, async () => {
    const before = await rowsOf(owner.tenant.org.id)
    const outcome = { nothing: { rows: 0 }, refused: { refused: '42501' } }
    expect(await asTenant(stranger, `update agentry.${table} set ${change} where org_id = $1 returning 1`)).toEqual(outcome[update])
    expect(await asTenant(stranger, `delete from agentry.${table} where org_id = $1 returning 1`)).toEqual(outcome[remove])
    expect(await rowsOf(owner.tenant.org.id)).toEqual(before)
  })
})

describe("another organisation's claims cannot write into the victim's organisation", () => {
  it('refuses a conversation, a usage record, a webhook endpoint and an event in its name', async () => {
    const { tenant, traces } = owner
    const org = tenant.org.id
    const plants = [
      `insert into agentry.conversations (org_id, agent_id, title) values ($1, '${tenant.agent.id}', 'planted')`,
      `insert into agentry.usage_records (org_id, provider, model, prompt_tokens, completion_tokens) values ($1, 'p', 'offline', 1, 1)`,
      `insert into agentry.webhook_endpoints (org_id, url, events, secret) values ($1, 'https://example.com', '{*}', 'whsec_x')`,
      `insert into agentry.events (org_id, type, data, endpoint_id) values ($1, 'webhook.test', '{}', '${traces['webhook endpoint id']}')`,
    ]
    const before = await rowsOf(org)
    for (const plant of plants) expect(await asTenant(stranger, plant), plant).toEqual({ refused: '42501' })
    expect(await rowsOf(org)).toEqual(before)
  })

  it("answers a message to the victim's conversation as if the conversation did not exist", async () => {
    const statement = `insert into agentry.messages (conversation_id, role, content) values ('${owner.traces['conversation id']}', 'user', 'planted')
      returning 1`
    expect(await asTenant(stranger, statement, [])).toEqual({ refused: 'P0002' })
  })
})
