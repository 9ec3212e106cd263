import type postgres from 'postgres'

/** Operator actions on the service connection (no tenant, no RLS): used by the CLI, the dev seed and tests. */

export interface OrgRecord {
  id: string
  name: string
  plan: string
  rate_limit_per_minute: number | null
  created_at: Date
}

export async function createOrganisation(
  sql: postgres.Sql,
  org: { name: string; plan?: string; rateLimitPerMinute?: number | null },
): Promise<OrgRecord> {
  const [row] = await sql<OrgRecord[]>`
    insert into agentry.organisations (name, plan, rate_limit_per_minute)
    values (${org.name}, ${org.plan ?? 'free'}, ${org.rateLimitPerMinute ?? null})
    returning id, name, plan, rate_limit_per_minute, created_at`
  return row
}

export async function listOrganisations(sql: postgres.Sql): Promise<OrgRecord[]> {
  return sql<OrgRecord[]>`select id, name, plan, rate_limit_per_minute, created_at from agentry.organisations order by created_at`
}

export async function setOrganisationRateLimit(sql: postgres.Sql, orgId: string, perMinute: number | null): Promise<void> {
  await sql`update agentry.organisations set rate_limit_per_minute = ${perMinute} where id = ${orgId}`
}

export async function createAgent(sql: postgres.Sql, agent: { orgId: string; name: string }): Promise<{ id: string; name: string }> {
  const [row] = await sql<{ id: string; name: string }[]>`
    insert into agentry.agents (org_id, name) values (${agent.orgId}, ${agent.name}) returning id, name`
  return row
}

export type MemberRole = 'owner' | 'admin' | 'member'

/**
 * Makes a Supabase Auth user a member (or changes their role). On a Supabase project the user already
 * exists in auth.users, which belongs to Supabase Auth; only the local stand-in gets a row written here.
 */
export async function addMember(sql: postgres.Sql, m: { orgId: string; userId: string; email?: string; role: MemberRole }) {
  const [user] = await sql`select 1 from auth.users where id = ${m.userId}`
  if (!user) await sql`insert into auth.users (id, email) values (${m.userId}, ${m.email ?? null})`
  await sql`
    insert into agentry.members (org_id, user_id, role) values (${m.orgId}, ${m.userId}, ${m.role})
    on conflict (org_id, user_id) do update set role = excluded.role`
}

export async function listMembersOfOrg(sql: postgres.Sql, orgId: string) {
  return sql<{ user_id: string; email: string | null; role: MemberRole; created_at: Date }[]>`
    select m.user_id, u.email, m.role, m.created_at
    from agentry.members m join auth.users u on u.id = m.user_id
    where m.org_id = ${orgId} order by m.created_at`
}

export async function findOrganisation(sql: postgres.Sql, id: string): Promise<OrgRecord | undefined> {
  const [row] = await sql<OrgRecord[]>`select id, name, plan, rate_limit_per_minute, created_at from agentry.organisations where id = ${id}`
  return row
}

export interface AgentRecord {
  id: string
  name: string
  created_at: Date
}

export async function listAgentsOfOrg(sql: postgres.Sql, orgId: string): Promise<AgentRecord[]> {
  return sql<AgentRecord[]>`select id, name, created_at from agentry.agents where org_id = ${orgId} order by created_at, id`
}

/** The agent, only if it belongs to the organisation: a key may bind only to an agent of its own organisation. */
export async function findAgentOfOrg(sql: postgres.Sql, orgId: string, agentId: string): Promise<AgentRecord | undefined> {
  const [row] = await sql<AgentRecord[]>`select id, name, created_at from agentry.agents where org_id = ${orgId} and id = ${agentId}`
  return row
}
