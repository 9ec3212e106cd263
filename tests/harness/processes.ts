import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { freePort } from '../../scripts/lib/embedded-postgres.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ApiProcess {
  base: string
  stop(): Promise<void>
}

/** Starts the API in a separate Node process on loopback, against the run's database. */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'tests/harness/serve-process.ts'], {
    cwd: root,
    env: { ...process.env, ...env, DATABASE_URL: inject('databaseUrl'), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`API process exited with code ${code}`)))
  })
  return {
    base: `http://127.0.0.1:${port}/functions/v1/api/v1`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
