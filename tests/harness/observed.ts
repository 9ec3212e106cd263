// What test files saw, kept for the tests about the suite itself (tests/completeness/), which run after
// every other file: each process appends JSON lines to a file of its own, and the run starts empty.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const folder = fileURLToPath(new URL('../../.data/observed/', import.meta.url))

export type ObservedKind = 'answers' | 'security-runs'

/** Notes one thing a test saw; cheap enough to call on every request. */
export function observe(kind: ObservedKind, record: Record<string, unknown>): void {
  fs.mkdirSync(folder, { recursive: true })
  fs.appendFileSync(path.join(folder, `${kind}-${process.pid}.jsonl`), `${JSON.stringify(record)}\n`)
}

/** Everything noted of one kind in this run, by every process. */
export function observed<T>(kind: ObservedKind): T[] {
  if (!fs.existsSync(folder)) return []
  return fs
    .readdirSync(folder)
    .filter((name) => name.startsWith(`${kind}-`))
    .flatMap((name) => fs.readFileSync(path.join(folder, name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as T))
}

/**
 * Called as a run starts (global-setup.ts), so nothing seen by an earlier run counts. Each vitest project
 * runs the global setup as its group starts, so only the first call of the process forgets.
 */
export function forgetObserved(): void {
  const run = globalThis as { agentryObservedForgotten?: boolean }
  if (run.agentryObservedForgotten) return
  run.agentryObservedForgotten = true
  fs.rmSync(folder, { recursive: true, force: true })
}
