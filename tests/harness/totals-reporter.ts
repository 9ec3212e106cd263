import type { Reporter, SerializedError, TestModule, TestRunEndReason, TestSuite } from 'vitest/node'

interface Totals {
  passed: number
  failed: number
}

/**
 * Prints the run's totals as one plain line, `N passed, N failed`, which CI reads.
 *
 * The line must not say "0 failed" when something failed outside a test's own body. When a `beforeAll` throws,
 * vitest marks the tests under it skipped: each of those counts as failed, since each is a check that did not
 * run. A module or group whose failure touched no test (an `afterAll` that throws, a module that does not load)
 * counts as one failure, and so does every error thrown outside any test. Tests skipped on purpose count in
 * neither total.
 */
export default class TotalsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason) {
    const totals: Totals = { passed: 0, failed: 0 }
    for (const mod of testModules) add(totals, count(mod, false))
    totals.failed += unhandledErrors.length
    // An interrupted run did not check everything it was asked to.
    if (reason === 'interrupted' && totals.failed === 0) totals.failed = 1
    process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed\n`)
  }
}

function count(group: TestModule | TestSuite, setupFailedAbove: boolean): Totals {
  const ownErrors = group.errors().length > 0
  const setupFailed = setupFailedAbove || ownErrors
  const totals: Totals = { passed: 0, failed: 0 }
  for (const child of group.children) {
    if (child.type === 'suite') {
      add(totals, count(child, setupFailed))
      continue
    }
    const state = child.result().state
    if (state === 'passed') totals.passed++
    else if (state === 'failed' || (setupFailed && !skippedOnPurpose(child.options.mode))) totals.failed++
  }
  if (ownErrors && totals.failed === 0) totals.failed = 1
  return totals
}

function skippedOnPurpose(mode: string) {
  return mode === 'skip' || mode === 'todo'
}

function add(into: Totals, from: Totals) {
  into.passed += from.passed
  into.failed += from.failed
}
