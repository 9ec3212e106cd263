import { defineConfig } from 'vitest/config'

// Tests that compare latencies (one tenant's against another's) run alone, after everything else: on a
// 2-core machine, other test files running beside them would be measured too.
const measured = ['tests/_core/noisy-neighbour.test.ts', 'tests/webhooks/fairness.test.ts']
// Tests about the suite itself (every answer the suite saw is declared, every route has its security run)
// read what the other files recorded under .data/observed (tests/harness/observed.ts), so they run last.
const completeness = ['tests/completeness/**/*.test.ts']

export default defineConfig({
  test: {
    globalSetup: ['tests/harness/global-setup.ts'],
    setupFiles: ['tests/harness/database-env.ts'],
    // Suites send bad credentials on purpose, all from 127.0.0.1: the per-address limit on failed
    // authentications would refuse them. Its own test sets the limit it checks.
    env: { AUTH_FAILURE_LIMIT: '1000000' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/harness/coverage-line-reporter.ts', './tests/harness/totals-reporter.ts'],
    // `npm run test:coverage`. Only code that runs in the test processes is measured: the API served in process
    // (tests/harness/api.ts), not the child processes some tests start (the Deno server, the worker script).
    coverage: {
      provider: 'v8',
      include: ['functions/**/*.{ts,tsx}'],
      // Written by `npm run docs:assets` from swagger-ui-dist, not by hand.
      // The console's page scripts run in the browser (tests/console drives them there), bundled into a string.
      exclude: ['functions/_core/swagger-ui.generated.ts', 'functions/console/client/**', 'functions/console/assets.generated.ts'],
      reporter: ['json-summary', 'html'],
      reportsDirectory: '.data/coverage',
      // A failed test should not also hide the report.
      reportOnFailure: true,
    },
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['tests/**/*.test.ts'], exclude: [...measured, ...completeness], sequence: { groupOrder: 0 } },
      },
      { extends: true, test: { name: 'measured', include: measured, fileParallelism: false, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'completeness', include: completeness, sequence: { groupOrder: 2 } } },
    ],
  },
})
