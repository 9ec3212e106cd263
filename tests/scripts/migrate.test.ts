import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { listMigrations } from '../../scripts/lib/migrations.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Runs `npm run migrate`'s script in its own process, as a user would. */
async function migrate(env: Record<string, string | undefined>, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)('node_modules/.bin/tsx', ['scripts/migrate.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: undefined, SUPABASE_DB_URL: undefined, ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string }
    if (typeof failed.code !== 'number') throw error
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' }
  }
}

// An empty database of its own on the run's server, so that every migration is pending.
const server = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} })
const name = `migrate_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`
const url = inject('databaseUrl').replace(/\/postgres$/, `/${name}`)
beforeAll(() => server.unsafe(`create database ${name}`))
afterAll(async () => {
  await server.unsafe(`drop database if exists ${name} with (force)`)
  await server.end()
})

describe('npm run migrate', () => {
  it('prints its usage for --help and exits 0', async () => {
    const result = await migrate({}, '--help')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('Usage: npm run migrate')
    expect(result.stdout).toContain('DATABASE_URL')
  })

  it('applies every migration to an empty DATABASE_URL in order, names each, and hides the password', async () => {
    const result = await migrate({ DATABASE_URL: url })
    expect(result.code, result.stderr).toBe(0)
    const migrations = listMigrations()
    expect(result.stdout).toBe(
      [
        `Migrating ${url.replace(':postgres@', ':***@')}`,
        ...migrations.map((m) => `  applied ${m.version}_${m.name}`),
        `Applied ${migrations.length} migrations.`,
        '',
      ].join('\n'),
    )
    const sql = postgres(url, { max: 1 })
    const recorded = await sql`select version from supabase_migrations.schema_migrations order by version`
    const [plans] = await sql`select count(*)::int as n from agentry.plans`
    await sql.end()
    expect(recorded.map((r) => r.version)).toEqual(migrations.map((m) => m.version))
    expect(plans.n).toBeGreaterThan(0)
  })

  it('applies nothing the second time and says the database is up to date', async () => {
    const result = await migrate({ DATABASE_URL: url })
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim().split('\n').at(-1)).toBe('Up to date: nothing to apply.')
  })

  it('fails with one line and exit code 1 when the database cannot be reached', async () => {
    const result = await migrate({ DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:1/nowhere` })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^migrate: .*ECONNREFUSED.*\n$/)
  })
})
