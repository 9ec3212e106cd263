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
 * The plan the demo organisation is on. The seed's free plan allows 60 requests a minute, which would stop
 * anyone exploring with curl or a script within a minute; `development` allows 6,000. Organisations made
 * with the CLI or the API start on free.
 */
export const demoPlan = 'development'

/** What earlier demos set as their own override before the development plan existed. */
const formerDemoOverride = 6000

export interface DemoLimit {
  plan: string
  /** What the organisation may make a minute: its own override, or else its plan's limit. */
  rate_limit_per_minute: number
  /** Whether that limit is the organisation's own (set with the CLI) rather than its plan's. */
  overridden: boolean
}

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
export async function ensureDemo(databaseUrl: string, dataDir: string): Promise<DemoKeys & DemoLimit & { created: boolean }> {
  const file = path.join(dataDir, 'dev-keys.json')
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoKeys
      const limit = await moveToDemoPlan(sql, saved.org_id)
      if (limit) return { ...saved, ...limit, created: false }
    }
    const org = await createOrganisation(sql, { name: 'Demo organisation', plan: demoPlan })
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
    await sql`select agentry.insert_dataset_rows(${dataset.id}, ${sql.json(demoLeads)})`
    const demo: DemoKeys = { org_id: org.id, agent_id: agent.id, key: key.key, dataset_id: dataset.id }
    fs.mkdirSync(dataDir, { recursive: true })
    fs.writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 })
    return { ...demo, ...(await demoLimit(sql, org.id))!, created: true }
  } finally {
    await sql.end()
  }
}

/**
 * Puts a demo made before the development plan on it, and clears the override such a demo gave itself; a
 * limit set since with the CLI stays. A demo moved to another plan by hand stays there.
 */
async function moveToDemoPlan(sql: postgres.Sql, orgId: string): Promise<DemoLimit | undefined> {
  await sql`
    update agentry.organisations
    set plan = ${demoPlan},
        rate_limit_per_minute = nullif(rate_limit_per_minute, ${formerDemoOverride})
    where id = ${orgId} and plan = 'free'`
  return demoLimit(sql, orgId)
}

async function demoLimit(sql: postgres.Sql, orgId: string): Promise<DemoLimit | undefined> {
  const [limit] = await sql<DemoLimit[]>`
    select o.plan, coalesce(o.rate_limit_per_minute, p.rate_limit_per_minute) as rate_limit_per_minute,
           o.rate_limit_per_minute is not null as overridden
    from agentry.organisations o join agentry.plans p on p.id = o.plan
    where o.id = ${orgId}`
  return limit
}

/** The startup banner's lines on the demo's limit: where it comes from, and how to change it. */
export function describeDemoLimit(demo: DemoKeys & DemoLimit): string {
  const perMinute = `${demo.rate_limit_per_minute.toLocaleString('en')} requests a minute`
  const source = demo.overridden ? `its own limit, set with the CLI, on the ${demo.plan} plan` : `the ${demo.plan} plan's limit`
  return [
    `The demo organisation may make ${perMinute} (${source}); organisations you create start on the free plan.`,
    `To change it:  npm run cli -- orgs set-rate-limit --org ${demo.org_id} --per-minute <n|default>`,
  ].join('\n  ')
}
