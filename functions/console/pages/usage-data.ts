// What the usage page draws, from GET /costs answers: one answer per day split by agent or model (the API
// sums a day, an agent or a model, not both at once), turned into a chart's series.

import type { ChartSeries } from './usage-chart.ts'

export interface CostSums {
  group: string | null
  calls: number
  total_tokens: number
  cost_usd: number
}

export const usageMetrics = {
  calls: 'Requests',
  total_tokens: 'Tokens',
  cost_usd: 'Cost',
} as const
export type UsageMetric = keyof typeof usageMetrics

export const usageSplits = ['agent', 'model'] as const
export type UsageSplit = (typeof usageSplits)[number]

const dayMs = 86_400_000

/** Every UTC day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = []
  for (let t = Date.parse(from); t <= Date.parse(to) && days.length < 400; t += dayMs) days.push(new Date(t).toISOString().slice(0, 10))
  return days
}

/** The last `count` UTC days up to and including `today`. */
export function lastDays(today: string, count: number): { from: string; to: string } {
  return { from: new Date(Date.parse(today) - (count - 1) * dayMs).toISOString().slice(0, 10), to: today }
}

/**
 * Series of one metric per day: the groups that weigh most over the span each get their own (at most
 * `maxSeries`, the last one "Other" when there are more), named by `nameOf`.
 */
export function seriesByDay(
  days: string[],
  perDay: ReadonlyMap<string, CostSums[]>,
  metric: UsageMetric,
  nameOf: (group: string | null) => string,
  maxSeries = 6,
): ChartSeries[] {
  const weight = new Map<string | null, number>()
  for (const rows of perDay.values()) for (const r of rows) weight.set(r.group, (weight.get(r.group) ?? 0) + r[metric])
  const ranked = [...weight.entries()]
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1] || nameOf(a[0]).localeCompare(nameOf(b[0])))
    .map(([g]) => g)
  const kept = ranked.length > maxSeries ? ranked.slice(0, maxSeries - 1) : ranked
  const other = ranked.length > kept.length
  const series: ChartSeries[] = kept.map((g) => ({ name: nameOf(g), values: days.map(() => 0) }))
  if (other) series.push({ name: 'Other', values: days.map(() => 0) })
  days.forEach((day, d) => {
    for (const r of perDay.get(day) ?? []) {
      const at = kept.indexOf(r.group)
      const s = at >= 0 ? series[at] : other ? series[series.length - 1] : undefined
      if (s) s.values[d] += r[metric]
    }
  })
  return series
}

const whole = new Intl.NumberFormat('en', { maximumFractionDigits: 0 })

export const formatCount = (n: number) => whole.format(n)

/** Dollars with cents, and more digits for the fractions of a cent small calls cost. */
export function formatUsd(n: number): string {
  if (n === 0) return '$0.00'
  if (Math.abs(n) >= 1) return `$${n.toFixed(2)}`
  const significant = String(Number(n.toPrecision(3)))
  return `$${(significant.split('.')[1]?.length ?? 0) < 2 ? n.toFixed(2) : significant}`
}
