import fs from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createAgent, createOrganisation } from './admin.ts'

export interface DemoKeys {
  org_id: string
  agent_id: string
  key: string
  dataset_id?: string
}

/**
 * The demo organisation's requests a minute. It stays on the seed's free plan, whose 60 a minute would stop
 * anyone exploring with curl or a script within a minute, so it gets an override of its own; organisations
 * made with the CLI or the API keep their plan's limit.
 */
export const demoRateLimitPerMinute = 6000

const demoLeads = [
  { name: 'Ada Lovelace', status: 'active', score: 92, region: 'eu', signed_up: '2026-09-01T10:00:00.000Z' },
  { name: 'Grace Hopper', status: 'active', score: 85, region: 'us', signed_up: '2026-09-14T16:30:00.000Z' },
  { name: 'Alan Turing', status: 'lost', score: 40, region: 'eu', signed_up: '2026-10-02T08:15:00.000Z' },
  { name: 'Katherine Johnson', status: 'new', score: null, region: 'us', signed_up: '2026-11-20T12:00:00.000Z' },
  { name: 'Edsger Dijkstra', status: 'active', score: 71, region: 'eu', signed_up: '2026-11-21T09:45:00.000Z' },
]

/**
 * On the first run, creates a demo organisation, an agent, a full-access organisation token and a small
 * "Leads" dataset, and writes their ids and the key to `<dataDir>/dev-keys.json`; later runs reuse that file.
 */
export async function ensureDemo(
  databaseUrl: string,
  dataDir: string,
): Promise<DemoKeys & { rate_limit_per_minute: number; created: boolean }> {
  const file = path.join(dataDir, 'dev-keys.json')
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoKeys
      // A demo made before it had its own limit gets it now; one changed since (with the CLI) keeps the change.
      const [org] = await sql<{ rate_limit_per_minute: number }[]>`
        update agentry.organisations set rate_limit_per_minute = coalesce(rate_limit_per_minute, ${demoRateLimitPerMinute})
        where id = ${saved.org_id} returning rate_limit_per_minute`
      if (org) return { ...saved, rate_limit_per_minute: org.rate_limit_per_minute, created: false }
    }
    const org = await createOrganisation(sql, { name: 'Demo organisation', rateLimitPerMinute: demoRateLimitPerMinute })
    const agent = await createAgent(sql, { orgId: org.id, name: 'Demo agent' })
    const key = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'Development key', scopes: ['*'], expiresAt: null })
    const [dataset] = await sql<{ id: string }[]>`
      insert into agentry.datasets (org_id, name, description, columns, open)
      values (${org.id}, 'Leads', 'Demo leads to query', ${sql.json([
        { name: 'name', type: 'text' },
        { name: 'status', type: 'text' },
        { name: 'score', type: 'number' },
        { name: 'region', type: 'text' },
        { name: 'signed_up', type: 'timestamp' },
      ])}, false)
      returning id`
    await sql`insert into agentry.dataset_rows (dataset_id, data) select ${dataset.id}, value from jsonb_array_elements(${sql.json(demoLeads)}) with ordinality as t(value, n) order by n`
    const demo: DemoKeys = { org_id: org.id, agent_id: agent.id, key: key.key, dataset_id: dataset.id }
    fs.mkdirSync(dataDir, { recursive: true })
    fs.writeFileSync(file, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 })
    return { ...demo, rate_limit_per_minute: demoRateLimitPerMinute, created: true }
  } finally {
    await sql.end()
  }
}
