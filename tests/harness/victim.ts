import { createDataset } from './datasets.ts'
import { createTenant, serviceSql, type Tenant } from './tenants.ts'
import { createEndpoint } from './webhooks.ts'

/**
 * The organisation another organisation's key attacks: it owns one of every resource the routes touch, each
 * carrying the same marker, so an answer that shows any of it to someone else can be recognised.
 */
export interface Victim {
  tenant: Tenant
  /** A value written into a name or text field of every resource: `leak-marker-<random>`. */
  marker: string
  /** What no other organisation may ever be shown, by what it is: ids, the key, its prefix, the secret, the marker. */
  traces: Record<string, string>
}

let seeded: Promise<Victim> | undefined

/** This test file's victim, seeded on first use (a test file's modules are its own, so once per file). */
export function victim(): Promise<Victim> {
  seeded ??= createVictim()
  return seeded
}

/** A fresh victim, made straight in the database with the service connection. */
export async function createVictim(): Promise<Victim> {
  const sql = serviceSql()
  const marker = `leak-marker-${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`
  const tenant = await createTenant({ name: `${marker} org` })
  // The security table makes resources of the victim's for every route a file checks: keep its caps out of reach.
  await sql`update agentry.organisations set plan = 'enterprise' where id = ${tenant.org.id}`
  await sql`
    update agentry.agents set name = ${`${marker} agent`}, description = ${marker}, instructions = ${marker}
    where id = ${tenant.agent.id}`
  tenant.agent.name = `${marker} agent`

  const key = await tenant.keyWithId({ name: `${marker} key` })
  const [{ prefix }] = await sql<{ prefix: string }[]>`select prefix from agentry.api_keys where id = ${key.id}`

  const [conversation] = await sql<{ id: string }[]>`
    insert into agentry.conversations (org_id, agent_id, title, user_ref, metadata)
    values (${tenant.org.id}, ${tenant.agent.id}, ${`${marker} conversation`}, ${marker}, ${sql.json({ marker })})
    returning id`
  const [message] = await sql<{ id: string }[]>`
    insert into agentry.messages (conversation_id, role, content, user_ref)
    values (${conversation.id}, 'user', ${`${marker} message`}, ${marker}) returning id`
  const [usage] = await sql<{ id: string }[]>`
    insert into agentry.usage_records (org_id, agent_id, key_id, conversation_id, message_id, provider, model, prompt_tokens,
      completion_tokens)
    values (${tenant.org.id}, ${tenant.agent.id}, ${key.id}, ${conversation.id}, ${message.id}, 'offline', 'offline', 7, 11)
    returning id`

  const dataset = await createDataset(tenant, { name: `${marker} dataset`, rows: [{ note: `${marker} row` }] })
  const [row] = await sql<{ id: string }[]>`select id from ${sql(`datasets.${dataset.id}`)}`

  // Subscribed to test events only, so nothing the security table makes later fans out to it.
  const endpoint = await createEndpoint(tenant, { url: `https://${marker}.example.com/hooks`, events: ['webhook.test'] })
  await sql`update agentry.webhook_endpoints set description = ${marker} where id = ${endpoint.id}`
  const [event] = await sql<{ id: string }[]>`
    insert into agentry.events (org_id, type, data, endpoint_id)
    values (${tenant.org.id}, 'webhook.test', ${sql.json({ message: marker })}, ${endpoint.id}) returning id`
  // Delivered already: no dispatcher has anything of the victim's to claim and change.
  const [delivery] = await sql<{ id: string }[]>`
    update agentry.webhook_deliveries set status = 'delivered', attempt_count = 1, delivered_at = now(), last_status_code = 200,
      delivery_latency_ms = 5
    where event_id = ${event.id} returning id`
  await sql`
    insert into agentry.webhook_attempts (delivery_id, endpoint_id, org_id, attempt, started_at, status_code, latency_ms, response_body)
    values (${delivery.id}, ${endpoint.id}, ${tenant.org.id}, 1, now(), 200, 5, ${marker})`

  // The production environment's default base, linked to the agent, with one entry and its chunk.
  const [base] = await sql<{ id: string; environment_id: string }[]>`
    insert into agentry.knowledge_bases (org_id, environment_id, is_default, name, description)
    select ${tenant.org.id}, id, true, ${`${marker} base`}, ${marker} from agentry.environments
    where org_id = ${tenant.org.id} and name = 'production'
    returning id, environment_id`
  await sql`insert into agentry.knowledge_base_agents (org_id, base_id, agent_id) values (${tenant.org.id}, ${base.id}, ${tenant.agent.id})`
  const [item] = await sql<{ id: string }[]>`
    insert into agentry.knowledge_items (org_id, base_id, title, content, text, metadata, namespace, entry_id)
    values (${tenant.org.id}, ${base.id}, ${`${marker} item`}, ${marker}, ${marker}, ${sql.json({ marker })}, ${marker}, ${marker})
    returning id`
  const [chunk] = await sql<{ id: string }[]>`
    insert into agentry.knowledge_chunks (org_id, base_id, item_id, position, title, text, namespace, content_version)
    values (${tenant.org.id}, ${base.id}, ${item.id}, 0, ${`${marker} item`}, ${`${marker} chunk`}, ${marker}, 1) returning id`

  // A custom domain (its DKIM key marked too) and an inbox of the agent's on the shared domain.
  const [domain] = await sql<{ id: string }[]>`
    insert into agentry.email_domains (org_id, name, dkim_selector, dkim_private_key, dkim_public_key)
    values (${tenant.org.id}, ${`${marker}.example.com`}, 'agentry', ${`${marker} private key`}, ${marker}) returning id`
  const [inbox] = await sql<{ id: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, name, agent_id)
    values (${tenant.org.id}, 'agents.localhost', ${marker}, ${`${marker} inbox`}, ${tenant.agent.id}) returning id`

  await sql`
    insert into agentry.audit_log (org_id, key_id, method, path, status, request_id)
    values (${tenant.org.id}, ${key.id}, 'POST', ${`/${marker}`}, 201, ${marker})`

  return {
    tenant,
    marker,
    traces: {
      marker,
      'organisation id': tenant.org.id,
      'agent id': tenant.agent.id,
      'second agent id': tenant.otherAgent.id,
      'API key id': key.id,
      'API key': key.key,
      'API key prefix': prefix,
      'conversation id': conversation.id,
      'message id': message.id,
      'usage record id': usage.id,
      'dataset id': dataset.id,
      'dataset row id': row.id,
      'webhook endpoint id': endpoint.id,
      'webhook secret': endpoint.secret,
      'event id': event.id,
      'delivery id': delivery.id,
      'knowledge base id': base.id,
      'knowledge item id': item.id,
      'knowledge chunk id': chunk.id,
      'email domain id': domain.id,
      'inbox id': inbox.id,
    },
  }
}

/**
 * Every row of the organisation's, table by table, found through the catalog (every table with an `org_id`
 * column), so a table added later is watched too. Key usage is left out: it is counted in the API process
 * and written up to a second later, for calls the test itself made with the organisation's keys. So is an
 * audit entry's place in the chain: any job runner seals entries in the background, which is not a change
 * the attacker made.
 */
export async function rowsOf(orgId: string): Promise<Record<string, unknown[]>> {
  const sql = serviceSql()
  const tables = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped
    where n.nspname = 'agentry' and c.relkind in ('r', 'p') and not c.relispartition
    order by c.relname`
  const ignored: Record<string, string> = {
    api_keys: ` - 'last_used_at' - 'call_count'`,
    audit_log: ` - 'seq' - 'prev_hash' - 'hash'`,
  }
  const row = (name: string) => `(to_jsonb(x)${ignored[name] ?? ''})`
  const parts = [
    `'organisations', (select jsonb_agg(to_jsonb(x)) from agentry.organisations x where id = $1)`,
    ...tables.map(
      ({ name }) =>
        `'${name}', (select coalesce(jsonb_agg(${row(name)} order by ${row(name)}::text), '[]') from agentry."${name}" x where org_id = $1)`,
    ),
  ]
  const [{ rows }] = await sql.unsafe(`select jsonb_build_object(${parts.join(', ')}) as rows`, [orgId])
  return { ...rows, dataset_rows: await datasetRowsOf(orgId) }
}

/** Every row of the organisation's datasets, each dataset's table read as the API shows its rows. */
async function datasetRowsOf(orgId: string): Promise<unknown[]> {
  const sql = serviceSql()
  const datasets = await sql<{ id: string }[]>`select id from agentry.datasets where org_id = ${orgId} order by id`
  if (datasets.length === 0) return []
  const each = datasets.map(
    ({ id }) =>
      `select jsonb_build_object('dataset_id', d.id) || agentry.dataset_row_json(d.columns, to_jsonb(x)) as r
       from agentry.datasets d, datasets."${id}" x where d.id = '${id}'`,
  )
  const [{ rows }] = await sql.unsafe(`select coalesce(jsonb_agg(r order by r::text), '[]') as rows from (${each.join(' union all ')}) t`)
  return rows
}
