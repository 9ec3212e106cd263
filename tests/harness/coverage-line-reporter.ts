import type { Reporter } from 'vitest/node'

/** The part of istanbul's coverage map this reporter reads. */
interface CoverageMap {
  getCoverageSummary(): { lines: { pct: number }; branches: { pct: number } }
}

/**
 * With `--coverage`, prints one plain line, `coverage: functions/ lines N %, branches N %`, which CI shows.
 * Vitest hands the coverage over before the run's end, so the totals line still comes last.
 */
export default class CoverageLineReporter implements Reporter {
  onCoverage(coverage: unknown) {
    const summary = (coverage as CoverageMap).getCoverageSummary()
    process.stdout.write(`\ncoverage: functions/ lines ${summary.lines.pct.toFixed(1)} %, branches ${summary.branches.pct.toFixed(1)} %\n`)
  }
}
