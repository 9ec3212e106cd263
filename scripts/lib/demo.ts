import fs from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { createAgent, createOrganisation } from './admin.ts'

export interface DemoKeys {
  org_id: string
  agent_id: string
  key: string
}

/**
 * On the first run, creates a demo organisation, an agent and a full-access organisation token, and writes
 * them to `<dataDir>/dev-keys.json`; later runs reuse that file.
 */
export async function ensureDemo(databaseUrl: string, dataDir: string): Promise<DemoKeys & { created: boolean }> {
  const file = path.join(dataDir, 'dev-keys.json')
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    if (fs.existsSync(file)) {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoKeys
      const [org] = await sql`select id from agentry.organisations where id = ${saved.org_id}`
      if (org) return { ...saved, created: false }
    }
    const org = await createOrganisation(sql, { name: 'Demo organisation' })
    const agent = await createAgent(sql, { orgId: org.id, name: 'Demo agent' })
    const key = await issueKey(sql, { orgId: org.id, agentId: null, mode: null, name: 'Development key', scopes: ['*'], expiresAt: null })
    const demo: DemoKeys = { org_id: org.id, agent_id: agent.id, key: key.key }
    fs.mkdirSync(dataDir, { recursive: true })
    fs.writeFileSync(file, JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 })
    return { ...demo, created: true }
  } finally {
    await sql.end()
  }
}
