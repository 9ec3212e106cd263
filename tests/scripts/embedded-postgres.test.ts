import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { afterEach, describe, expect, it } from 'vitest'
import { canReach, installedBinaries, postgresAccount, startLocalPostgres } from '../../scripts/lib/embedded-postgres.ts'

const asRoot = process.getuid?.() === 0
const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup()
})

/** A folder only root may enter, like /root/app in a container. */
function privateFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-private-'))
  fs.chmodSync(dir, 0o700)
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe.skipIf(!asRoot)('the embedded PostgreSQL, started by root', () => {
  it('tells that the postgres user cannot reach into a 0700 folder, and can reach into a 0755 one', () => {
    const account = postgresAccount()
    const dir = privateFolder()
    fs.mkdirSync(path.join(dir, 'inside'))
    expect(canReach(path.join(dir, 'inside'), account)).toBe(false)
    fs.chmodSync(dir, 0o755)
    expect(canReach(path.join(dir, 'inside'), account)).toBe(true)
  })

  it('starts inside a 0700 folder by copying the binaries and keeping the data where postgres can reach them', async () => {
    const account = postgresAccount()
    const app = privateFolder()
    const installed = await installedBinaries()
    const binaries = { home: path.join(app, 'node_modules', 'native'), version: `test-${crypto.randomUUID().slice(0, 8)}` }
    fs.cpSync(installed.home, binaries.home, { recursive: true, verbatimSymlinks: true })
    const copy = path.join(os.tmpdir(), `agentry-postgres-${binaries.version}`)
    cleanups.push(() => fs.rmSync(copy, { recursive: true, force: true }))
    expect(canReach(binaries.home, account)).toBe(false)

    const dataDir = path.join(app, '.data', 'postgres')
    const pg = await startLocalPostgres({ dataDir, binaries })
    const data = fs.realpathSync(dataDir)
    cleanups.push(() => fs.rmSync(data, { recursive: true, force: true }))
    try {
      const sql = postgres(pg.url, { max: 1 })
      const [row] = await sql`select current_setting('data_directory') as dir, 1 + 1 as two`
      await sql.end()
      expect(row).toEqual({ dir: data, two: 2 })
    } finally {
      await pg.stop()
    }
    expect(fs.lstatSync(dataDir).isSymbolicLink()).toBe(true)
    expect(path.dirname(data)).toBe(os.tmpdir())
    expect(fs.statSync(data).uid).toBe(account.uid)
    expect(fs.existsSync(path.join(copy, 'bin', 'postgres'))).toBe(true)
    expect(fs.statSync(copy).mode & 0o777).toBe(0o755)

    // A second start reuses the copy and the data.
    const again = await startLocalPostgres({ dataDir, binaries })
    await again.stop()
    expect(fs.realpathSync(dataDir)).toBe(data)
  }, 60_000)

  it('refuses a binary copy that a user other than root could have changed', async () => {
    const account = postgresAccount()
    const app = privateFolder()
    const binaries = { home: path.join(app, 'native'), version: `test-${crypto.randomUUID().slice(0, 8)}` }
    fs.mkdirSync(binaries.home)
    const copy = path.join(os.tmpdir(), `agentry-postgres-${binaries.version}`)
    fs.mkdirSync(copy, { mode: 0o777 })
    fs.chmodSync(copy, 0o777)
    cleanups.push(() => fs.rmSync(copy, { recursive: true, force: true }))
    await expect(startLocalPostgres({ dataDir: path.join(app, 'data'), binaries })).rejects.toThrow(
      `${copy} is not a folder that only root can write: remove it and start again.`,
    )
    expect(canReach(binaries.home, account)).toBe(false)
  })
})
