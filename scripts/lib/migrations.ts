import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'

export const migrationsDir = fileURLToPath(new URL('../../sql/', import.meta.url))

export interface Migration {
  version: string
  name: string
  file: string
}

/** The SQL files, named `<version>_<name>.sql` as the supabase CLI expects, in the order they apply. */
export function listMigrations(dir = migrationsDir): Migration[] {
  return fs
    .readdirSync(dir)
    .map((file) => /^(\d+)_(.+)\.sql$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([file, version, name]) => ({ version, name, file: path.join(dir, file) }))
    .sort((a, b) => a.version.localeCompare(b.version))
}

/**
 * Applies pending migrations, each in its own transaction, recording them in
 * supabase_migrations.schema_migrations exactly where `supabase db push` records its own, so either tool
 * can follow the other. An advisory lock keeps concurrent starters from racing.
 */
export async function applyMigrations(databaseUrl: string, log: (line: string) => void = () => {}): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  const applied: string[] = []
  try {
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext('agentry.migrations'))`
      await tx`create schema if not exists supabase_migrations`
      await tx`create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text)`
      const done = new Set((await tx`select version from supabase_migrations.schema_migrations`).map((r) => r.version as string))
      for (const m of listMigrations()) {
        if (done.has(m.version)) continue
        const text = fs.readFileSync(m.file, 'utf8')
        await tx.unsafe(text)
        await tx`insert into supabase_migrations.schema_migrations (version, statements, name) values (${m.version}, ${[text]}, ${m.name})`
        applied.push(`${m.version}_${m.name}`)
        log(`applied ${m.version}_${m.name}`)
      }
    })
  } finally {
    await sql.end()
  }
  return applied
}
