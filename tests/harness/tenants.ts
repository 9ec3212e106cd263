import postgres from 'postgres'
import { inject } from 'vitest'
import { issueKey } from '../../functions/keys/issue-key.ts'
import { revokeKey } from '../../functions/keys/queries.ts'
import { createAgent, createOrganisation } from '../../scripts/lib/admin.ts'

let sql: postgres.Sql | undefined
let databaseUrl: string | undefined

/** A service-role connection to the run's database, for arranging tests (never for the code under test). */
export function serviceSql(): postgres.Sql {
  sql ??= postgres(databaseUrl ?? inject('databaseUrl'), { max: 4, onnotice: () => {} })
  return sql
}

/**
 * Gives this test file a database of its own on the run's server, migrated, for the app and the harness
 * alike: for tests whose subject works across organisations (a webhook dispatcher claims every due delivery)
 * and must not meet other files' rows. Call it before anything has used the database; returns its URL and
 * a function that drops it.
 */
export async function isolateDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const { applyMigrations } = await import('../../scripts/lib/migrations.ts')
  const server = inject('databaseUrl')
  const name = `isolated_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
  const admin = postgres(server, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = server.replace(/\/postgres$/, `/${name}`)
  await applyMigrations(url)
  databaseUrl = url
  process.env.DATABASE_URL = url
  return {
    url,
    drop: async () => {
      await sql?.end()
      sql = undefined
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

export interface KeyOptions {
  scopes?: string[]
  /** Bind the key to the tenant's first agent ('agent') or second agent ('otherAgent'). */
  agent?: 'agent' | 'otherAgent'
  mode?: 'live' | 'test'
  expiresAt?: Date
  revoked?: boolean
  name?: string
}

export interface Tenant {
  org: { id: string; name: string }
  agent: { id: string; name: string }
  otherAgent: { id: string; name: string }
  /** Issues a key straight into the database and returns the raw key and its id. */
  key(options?: KeyOptions): Promise<string>
  keyWithId(options?: KeyOptions): Promise<{ key: string; id: string }>
}

let counter = 0

/**
 * A fresh organisation with two agents. Its rate limit is set out of reach unless a test asks for one, so
 * suites running side by side never throttle each other.
 */
export async function createTenant(options: { rateLimitPerMinute?: number; name?: string } = {}): Promise<Tenant> {
  const db = serviceSql()
  const org = await createOrganisation(db, {
    name: options.name ?? `Test org ${++counter} ${crypto.randomUUID().slice(0, 8)}`,
    rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000_000,
  })
  const agent = await createAgent(db, { orgId: org.id, name: 'Agent A' })
  const otherAgent = await createAgent(db, { orgId: org.id, name: 'Agent B' })
  const keyWithId = async (o: KeyOptions = {}) => {
    const agentId = o.agent === 'agent' ? agent.id : o.agent === 'otherAgent' ? otherAgent.id : null
    const issued = await issueKey(db, {
      orgId: org.id,
      agentId,
      mode: agentId ? (o.mode ?? 'live') : null,
      name: o.name ?? 'test key',
      scopes: o.scopes ?? ['*'],
      expiresAt: o.expiresAt?.toISOString() ?? null,
    })
    if (o.revoked) await revokeKey(db, issued.id)
    return { key: issued.key, id: issued.id }
  }
  return { org, agent, otherAgent, keyWithId, key: async (o) => (await keyWithId(o)).key }
}
