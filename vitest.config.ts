import { defineConfig } from 'vitest/config'

// Tests that compare latencies (one tenant's against another's) run alone, after everything else: on a
// 2-core machine, other test files running beside them would be measured too.
const measured = ['tests/_core/noisy-neighbour.test.ts', 'tests/webhooks/fairness.test.ts']

export default defineConfig({
  test: {
    globalSetup: ['tests/harness/global-setup.ts'],
    setupFiles: ['tests/harness/database-env.ts'],
    // Suites send bad credentials on purpose, all from 127.0.0.1: the per-address limit on failed
    // authentications would refuse them. Its own test sets the limit it checks.
    env: { AUTH_FAILURE_LIMIT: '1000000' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/harness/totals-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['tests/**/*.test.ts'], exclude: measured, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'measured', include: measured, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
})
