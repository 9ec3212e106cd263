import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { freePort } from '../../scripts/lib/embedded-postgres.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface ApiProcess {
  base: string
  stop(): Promise<void>
}

/** Starts the API in a separate Node process on loopback, against the run's database unless env names another. */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const port = await freePort()
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'tests/harness/serve-process.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: inject('databaseUrl'), ...env, PORT: String(port) },
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

export interface WorkerProcess {
  pid: number
  /** SIGKILL: the process dies on the spot, whatever it has in hand. */
  kill(): Promise<void>
  stop(): Promise<void>
}

/** Starts `npm run worker` (the webhook dispatcher) as a process of its own against `databaseUrl`. */
export async function startWorkerProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    cwd: root,
    env: { ...process.env, WEBHOOK_ALLOW_PRIVATE: 'true', ...env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('webhook dispatcher running')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`worker exited with code ${code}`)))
  })
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill(name)
    await ended
  }
  return { pid: child.pid!, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') }
}
