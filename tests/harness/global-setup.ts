import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startLocalPostgres } from '../../scripts/lib/embedded-postgres.ts'
import { applyMigrations } from '../../scripts/lib/migrations.ts'
import { startObserving } from './observed.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

/** One real PostgreSQL for the whole run, fresh each time, migrated once; every test file makes its own tenants. */
export default async function setup(project: TestProject) {
  startObserving()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-test-pg-'))
  fs.chmodSync(dataDir, 0o777)
  const pg = await startLocalPostgres({ dataDir: path.join(dataDir, 'data') })
  await applyMigrations(pg.url)
  project.provide('databaseUrl', pg.url)
  return async () => {
    await pg.stop()
    // embedded-postgres hooks beforeExit to stop its servers and then calls process.exit(0), which would
    // overwrite the exit code vitest has set for failed tests: keep that code.
    process.once('beforeExit', () => {
      const code = process.exitCode
      process.once('exit', () => {
        if (code) process.exitCode = code
      })
    })
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
