import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const vitestCli = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
const fixtureConfig = fileURLToPath(new URL('./fixtures/totals/vitest.config.ts', import.meta.url))

interface FixtureRun {
  exitCode: number
  lastLine: string
}

/** Runs the fixture suites whose file names contain `filter` in a vitest of their own, as CI would. */
function runFixtures(filter: string): Promise<FixtureRun> {
  // This file runs inside vitest: its variables would tell the inner run it is a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')))
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [vitestCli, 'run', '--config', fixtureConfig, filter], { env, timeout: 60_000 }, (error, stdout) => {
      if (error && typeof error.code !== 'number') return reject(error)
      const lines = stdout.split('\n').filter((line) => line.trim() !== '')
      resolve({ exitCode: typeof error?.code === 'number' ? error.code : 0, lastLine: lines.at(-1) ?? '' })
    })
  })
}

describe.concurrent('the totals line CI reads', () => {
  it('counts every test of a file whose beforeAll throws as failed, not as skipped', async () => {
    const run = await runFixtures('before-all-throws')
    expect(run.lastLine).toBe('0 passed, 2 failed')
    expect(run.exitCode).toBe(1)
  })

  it('counts tests under a failed group, a failed afterAll, a module that cannot load and an error outside any test', async () => {
    // Passed: green 1, outside the broken group 1, before the failed afterAll 1, beside the stray error 1.
    // Failed: the broken beforeAll's 2 tests, the broken group's 1 test, the afterAll, the module, the stray error.
    const run = await runFixtures('.fixture.ts')
    expect(run.lastLine).toBe('4 passed, 6 failed')
    expect(run.exitCode).toBe(1)
  })

  it('says 0 failed for a passing file, and does not count a test skipped on purpose', async () => {
    const run = await runFixtures('green')
    expect(run.lastLine).toBe('1 passed, 0 failed')
    expect(run.exitCode).toBe(0)
  })
})
