// What test files saw, kept for the tests about the suite itself (tests/completeness/), which run after
// every other file: each process appends JSON lines to a file of its own, in a folder of the run's own
// (AGENTRY_TEST_RUN, set by global-setup.ts and inherited by every test process), so two runs in one
// checkout never read or clear each other's.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../.data/observed/', import.meta.url))
const folder = path.join(root, process.env.AGENTRY_TEST_RUN ?? 'unnamed-run')

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
    .flatMap((name) =>
      fs
        .readFileSync(path.join(folder, name), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as T),
    )
}

/**
 * Names this run (global-setup.ts calls it before any test process starts) and clears what runs of more
 * than a day ago left. Each vitest project runs the global setup again as its group starts: the name stays.
 */
export function startObserving(): void {
  if (process.env.AGENTRY_TEST_RUN) return
  process.env.AGENTRY_TEST_RUN = `${Date.now()}-${process.pid}`
  if (!fs.existsSync(root)) return
  const dayAgo = Date.now() - 86_400_000
  for (const name of fs.readdirSync(root)) {
    const started = Number(name.split('-')[0])
    if (!(started > dayAgo)) fs.rmSync(path.join(root, name), { recursive: true, force: true })
  }
}
