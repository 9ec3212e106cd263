import { serviceSql, type Tenant } from '../harness/tenants.ts'

/** A knowledge base of t's, made straight in the database, linked to the agents named. */
export async function createBase(t: Tenant, options: { name?: string; agents?: ('agent' | 'otherAgent')[] } = {}): Promise<{ id: string }> {
  const sql = serviceSql()
  const [base] = await sql<{ id: string }[]>`
    insert into agentry.knowledge_bases (org_id, name) values (${t.org.id}, ${options.name ?? 'Handbook'}) returning id`
  for (const agent of options.agents ?? []) {
    await sql`insert into agentry.knowledge_base_agents (org_id, base_id, agent_id) values (${t.org.id}, ${base.id}, ${t[agent].id})`
  }
  return base
}

/** An item of the base, made straight in the database (no indexing job). */
export async function createItem(t: Tenant, baseId: string, options: { entryId?: string } = {}): Promise<{ id: string }> {
  const [item] = await serviceSql()<{ id: string }[]>`
    insert into agentry.knowledge_items (org_id, base_id, title, content, text, entry_id)
    values (${t.org.id}, ${baseId}, 'Refunds', 'Refunds take five days.', 'Refunds take five days.', ${options.entryId ?? null})
    returning id`
  return item
}

/** The id of t's environment of that name (every organisation starts with production and development). */
export async function environmentOf(t: Tenant, name: 'production' | 'development' = 'production'): Promise<string> {
  const [env] = await serviceSql()<{ id: string }[]>`select id from agentry.environments where org_id = ${t.org.id} and name = ${name}`
  return env.id
}

/** The indexing jobs queued for an item, as the job table holds them. */
export function indexingJobsOf(itemId: string) {
  return serviceSql()<{ kind: string; payload: { item_id: string; content_version: number }; status: string; dedupe_key: string }[]>`
    select kind, payload, status, dedupe_key from agentry.jobs where kind = 'knowledge.index_item' and payload ->> 'item_id' = ${itemId}
    order by created_at`
}

/** An entry of the environment's default base (made if need be), straight in the database. */
export async function createEntry(t: Tenant, environmentId: string): Promise<{ entry_id: string }> {
  const sql = serviceSql()
  await sql`
    insert into agentry.knowledge_bases (org_id, environment_id, is_default, name)
    values (${t.org.id}, ${environmentId}, true, 'Environment knowledge')
    on conflict (org_id, environment_id) where is_default do nothing`
  const [base] = await sql<{ id: string }[]>`select id from agentry.knowledge_bases where environment_id = ${environmentId} and is_default`
  const entryId = `entry-${crypto.randomUUID().slice(0, 8)}`
  await createItem(t, base.id, { entryId })
  return { entry_id: entryId }
}
