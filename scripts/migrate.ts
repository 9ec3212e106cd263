// `npm run migrate`: applies the SQL files in sql/ that the database has not had yet, in order, and says
// which. The database is DATABASE_URL (or SUPABASE_DB_URL); without either, it is the local one `npm start`
// uses, reached where `npm start` is serving it, or started for the purpose and stopped again.
import { openLocalDatabase, type LocalPostgres } from './lib/embedded-postgres.ts'
import { applyMigrations, listMigrations } from './lib/migrations.ts'

const usage = `Usage: npm run migrate

Applies the migrations in sql/ (${listMigrations().length} files) that the database has not had yet.

  DATABASE_URL      the database to migrate (SUPABASE_DB_URL is used if it is not set)
                    unset: the local database of \`npm start\` in .data/postgres
  DB_PORT           the local database's port (54322)`

/** The URL with its password hidden, for printing. */
function shown(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(DATABASE_URL)'
  }
}

async function main(): Promise<number> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(usage)
    return 0
  }
  let url = process.env.DATABASE_URL || process.env.SUPABASE_DB_URL
  let local: LocalPostgres | undefined
  try {
    if (!url) {
      local = await openLocalDatabase((message) => console.log(`DATABASE_URL is not set. ${message}.`))
      url = local.url
    }
    console.log(`Migrating ${shown(url)}`)
    const applied = await applyMigrations(url, (line) => console.log(`  ${line}`))
    console.log(applied.length ? `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}.` : 'Up to date: nothing to apply.')
    return 0
  } catch (error) {
    console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  } finally {
    await local?.stop()
  }
}

main().then((code) => {
  process.exitCode = code
})
