import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalPostgres, type LocalPostgres } from '../../scripts/lib/embedded-postgres.ts'
import { applyMigrations, listMigrations } from '../../scripts/lib/migrations.ts'

// The real supabase CLI against a PostgreSQL of its own (not the run's shared one): `db push` must apply
// sql/ (supabase/migrations links there), the advisors must find nothing, and `db push` and our
// applyMigrations must each accept the other's record in supabase_migrations.schema_migrations.
const root = fileURLToPath(new URL('../..', import.meta.url))
const files = listMigrations().map((m) => path.basename(m.file))

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `supabase <args>` from the repository root. --agent=no pins the CLI to its plain text output in
 * every environment; PGSSLMODE=disable skips the TLS attempt (and its warning) on loopback.
 */
function supabase(...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(root, 'node_modules', '.bin', 'supabase'), [...args, '--agent=no'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PGSSLMODE: 'disable', NO_COLOR: '1' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The one JSON object in a CLI's stdout, which may carry other lines around it. */
function jsonIn({ stdout, stderr }: CliResult): any {
  const start = stdout.indexOf('{')
  const end = stdout.lastIndexOf('}')
  if (start < 0 || end < start) throw new Error(`no JSON in the CLI's output:\n${stdout}\n${stderr}`)
  return JSON.parse(stdout.slice(start, end + 1))
}

const push = (url: string) => supabase('db', 'push', `--remote=${url}`, '--yes', '--output-format', 'json')

let tempDir: string
let server: LocalPostgres
let cliFirstUrl: string
let runnerFirstUrl: string
let firstPush: CliResult

const databaseUrl = (name: string) => {
  const url = new URL(server.url)
  url.pathname = `/${name}`
  return url.toString()
}

async function query<T extends postgres.Row>(url: string, run: (sql: postgres.Sql) => Promise<T[]>): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return await run(sql)
  } finally {
    await sql.end()
  }
}

beforeAll(async () => {
  tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-cli-pg-'))
  // As root, embedded-postgres runs the server as a 'postgres' user it creates, which must reach the folder.
  fs.chmodSync(tempDir, 0o777)
  server = await startLocalPostgres({ dataDir: path.join(tempDir, 'data') })
  await query(server.url, async (sql) => {
    await sql.unsafe('create database cli_first')
    await sql.unsafe('create database runner_first')
    return []
  })
  cliFirstUrl = databaseUrl('cli_first')
  runnerFirstUrl = databaseUrl('runner_first')
  firstPush = await push(cliFirstUrl)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true })
})

describe('supabase db push on a fresh database', { timeout: 120_000 }, () => {
  it('applies every file in sql/, in order', () => {
    expect(firstPush.code, firstPush.stderr).toBe(0)
    expect(jsonIn(firstPush)).toMatchObject({ upToDate: false, migrations: files })
    for (const file of files) expect(firstPush.stderr).toContain(`Applying migration ${file}`)
  })

  it('records one row per migration file', async () => {
    const rows = await query(cliFirstUrl, (sql) => sql`select version, name from supabase_migrations.schema_migrations order by version`)
    expect(rows.map((r) => `${r.version}_${r.name}.sql`)).toEqual(files)
  })

  it('leaves agentry.api_keys behind row-level security', async () => {
    const [table] = await query(cliFirstUrl, (sql) => sql`select relrowsecurity from pg_class where oid = 'agentry.api_keys'::regclass`)
    expect(table.relrowsecurity).toBe(true)
  })

  it('leaves nothing for applyMigrations to apply', async () => {
    expect(await applyMigrations(cliFirstUrl)).toEqual([])
  })

  it('applies nothing when pushed again', async () => {
    const again = await push(cliFirstUrl)
    expect(again.code, again.stderr).toBe(0)
    expect(jsonIn(again)).toMatchObject({ upToDate: true, migrations: [] })
    expect(again.stderr).not.toContain('Applying migration')
  })
})

describe('supabase db advisors on the pushed schema', { timeout: 120_000 }, () => {
  it('reports no warning or error as JSON', async () => {
    const result = await supabase('db', 'advisors', `--remote=${cliFirstUrl}`, '--output-format', 'json', '--level', 'warn')
    expect(result.code, result.stderr).toBe(0)
    expect(jsonIn(result).results).toEqual([])
  })

  it('says No issues found at its default level', async () => {
    const result = await supabase('db', 'advisors', `--remote=${cliFirstUrl}`)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout + result.stderr).toContain('No issues found')
  })
})

describe('applyMigrations first, then supabase db push', { timeout: 120_000 }, () => {
  it('the CLI finds the database up to date', async () => {
    expect(await applyMigrations(runnerFirstUrl)).toEqual(files.map((f) => f.replace(/\.sql$/, '')))
    const result = await push(runnerFirstUrl)
    expect(result.code, result.stderr).toBe(0)
    expect(jsonIn(result)).toMatchObject({ upToDate: true, migrations: [], message: 'Remote database is up to date.' })
  })
})
