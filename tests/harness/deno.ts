import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../scripts/lib/embedded-postgres.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface DenoEntry {
  origin: string
  /** The DENO_DIR it ran with: fresh and empty, so that anything downloaded would show there. */
  denoDir: string
  stop(): Promise<void>
}

/**
 * Runs a Supabase Edge Function entry with the real Deno binary as `npm run start:deno` does, with
 * --cached-only and an empty DENO_DIR (so it starts from node_modules alone), on a free loopback port.
 * Resolves once `ready(origin)` is answered.
 */
export async function startDenoEntry(
  entry: string,
  env: Record<string, string>,
  ready: (origin: string) => Promise<unknown>,
): Promise<DenoEntry> {
  const denoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentry-deno-dir-'))
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  let output = ''
  const deno: ChildProcess = spawn(
    path.join(root, 'node_modules', '.bin', 'deno'),
    ['run', '--cached-only', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', entry],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env, DENO_DIR: denoDir, PORT: String(port), HOST: '127.0.0.1', NO_COLOR: '1' },
    },
  )
  deno.stdout?.on('data', (chunk) => (output += chunk))
  deno.stderr?.on('data', (chunk) => (output += chunk))
  const stop = async () => {
    if (deno.exitCode === null && deno.signalCode === null) {
      const exited = new Promise((resolve) => deno.once('exit', resolve))
      deno.kill('SIGTERM')
      await exited
    }
    fs.rmSync(denoDir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    if (deno.exitCode !== null) throw new Error(`deno exited with code ${deno.exitCode}:\n${output}`)
    if (
      await ready(origin).then(
        () => true,
        () => false,
      )
    )
      return { origin, denoDir, stop }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`deno did not answer within 60 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
