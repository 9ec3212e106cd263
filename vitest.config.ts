import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/harness/global-setup.ts'],
    setupFiles: ['tests/harness/database-env.ts'],
    // Suites send bad credentials on purpose, all from 127.0.0.1: the per-address limit on failed
    // authentications would refuse them. Its own test sets the limit it checks.
    env: { AUTH_FAILURE_LIMIT: '1000000' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './tests/harness/totals-reporter.ts'],
  },
})
