import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'

// Every `npm run` script starts: each is run with --help, which must print its usage and exit 0 at once,
// even for the long-running ones (start, worker, bench, test). A script whose file is missing or whose
// imports are broken fails here. No database is given, so help never needs one.
const root = fileURLToPath(new URL('../..', import.meta.url))
const scripts = Object.keys(JSON.parse(fs.readFileSync(`${root}/package.json`, 'utf8')).scripts as Record<string, string>)

// The tools' own help (tsc, vitest, biome) has its own wording; our scripts all begin with their usage.
const toolScripts = new Set(['typecheck', 'lint', 'format', 'test', 'test:coverage'])

interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

function npmRun(script: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' }
  delete env.DATABASE_URL
  delete env.SUPABASE_DB_URL
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', '--help'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    // Help that has not come back by then is a script that started its real work instead.
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

const runs = new Map<string, Run>()
beforeAll(async () => {
  // All at once: each is mostly tsx starting up, and one after another they would take a minute.
  const results = await Promise.all(scripts.map(async (script) => [script, await npmRun(script)] as const))
  for (const [script, run] of results) runs.set(script, run)
}, 60_000)

describe('every npm script', () => {
  it('includes the ones a newcomer reaches for', () => {
    expect(scripts).toEqual(
      expect.arrayContaining(['start', 'start:deno', 'migrate', 'cli', 'worker', 'bench', 'typecheck', 'lint', 'format', 'test']),
    )
  })

  it.each(scripts)('"%s" answers --help with its usage and exit code 0', (script) => {
    const run = runs.get(script)!
    expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null })
    if (toolScripts.has(script)) expect(run.stdout.length).toBeGreaterThan(100)
    else expect(run.stdout).toMatch(/^Usage: npm (run |start)/)
  })
})
