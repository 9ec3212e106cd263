import { describe, expect, it } from 'vitest'
import {
  axisTicks,
  chartLegend,
  chartSummary,
  chartTable,
  compact,
  seriesColours,
  stackedBarSvg,
  type StackedChart,
} from '../../functions/console/pages/usage-chart.ts'
import { daysBetween, formatCount, formatUsd, lastDays, seriesByDay } from '../../functions/console/pages/usage-data.ts'

const chart = (o: Partial<StackedChart> = {}): StackedChart => ({
  id: 'requests',
  title: 'Requests per day',
  days: ['2026-11-28', '2026-11-29', '2026-11-30'],
  series: [
    { name: 'Support <bot>', values: [3, 0, 5] },
    { name: 'Sales', values: [1, 0, 2] },
  ],
  format: formatCount,
  unit: 'requests',
  ...o,
})

/** The contrast ratio of two sRGB colours, as WCAG 2 computes it. */
function contrast(a: string, b: string): number {
  const luminance = (hex: string) => {
    const [r, g, bl] = [1, 3, 5].map((i) => {
      const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
    })
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl
  }
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi + 0.05) / (lo + 0.05)
}

describe('the usage chart', () => {
  it('stacks one bar segment per series and day with a value, in the series colours, each with its tooltip', () => {
    const svg = stackedBarSvg(chart())
    const rects = [...svg.matchAll(/<rect [^>]*data-day="([^"]+)" data-series="([^"]+)" data-value="([^"]+)"><title>([^<]+)</g)]
    expect(rects.map((m) => [m[1], m[2], Number(m[3]), m[4]])).toEqual([
      ['2026-11-28', 'Support &lt;bot&gt;', 3, '2026-11-28 · Support &lt;bot&gt;: 3 requests'],
      ['2026-11-28', 'Sales', 1, '2026-11-28 · Sales: 1 requests'],
      ['2026-11-30', 'Support &lt;bot&gt;', 5, '2026-11-30 · Support &lt;bot&gt;: 5 requests'],
      ['2026-11-30', 'Sales', 2, '2026-11-30 · Sales: 2 requests'],
    ])
    expect([...svg.matchAll(/fill="(#[0-9a-f]{6})" stroke="#ffffff"/g)].map((m) => m[1])).toEqual([
      seriesColours[0],
      seriesColours[1],
      seriesColours[0],
      seriesColours[1],
    ])
  })

  it('draws bar heights in proportion to the values, from the same baseline', () => {
    const svg = stackedBarSvg(chart({ series: [{ name: 'All', values: [2, 4, 8] }] }))
    const bars = [...svg.matchAll(/<rect x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"/g)].map((m) => ({
      y: Number(m[1]),
      h: Number(m[2]),
    }))
    expect(bars).toHaveLength(3)
    expect(bars[1].h / bars[0].h).toBeCloseTo(2, 1)
    expect(bars[2].h / bars[0].h).toBeCloseTo(4, 1)
    expect(new Set(bars.map((b) => Math.round((b.y + b.h) * 10)))).toEqual(new Set([Math.round((bars[0].y + bars[0].h) * 10)]))
  })

  it('is an image named by its title and described by a one-sentence summary', () => {
    const svg = stackedBarSvg(chart())
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="requests-title requests-desc"/)
    expect(svg).toContain('<title id="requests-title">Requests per day</title>')
    expect(svg).toContain(
      '<desc id="requests-desc">11 requests from 2026-11-28 to 2026-11-30, split into 2 series (Support &lt;bot&gt;, Sales); ' +
        'the most on 2026-11-30: 7.</desc>',
    )
    expect(chartSummary(chart({ series: [] }))).toBe('No requests in this period.')
  })

  it('offers the same numbers as a table with a row per day and the total per day', () => {
    expect(chartTable(chart())).toBe(
      '<table class="chart-table"><caption>Requests per day</caption><thead><tr><th scope="col">Day</th>' +
        '<th scope="col">Support &lt;bot&gt;</th><th scope="col">Sales</th><th scope="col">Total</th></tr></thead><tbody>' +
        '<tr><th scope="row">2026-11-28</th><td>3</td><td>1</td><td>4</td></tr>' +
        '<tr><th scope="row">2026-11-29</th><td>0</td><td>0</td><td>0</td></tr>' +
        '<tr><th scope="row">2026-11-30</th><td>5</td><td>2</td><td>7</td></tr></tbody></table>',
    )
    expect(chartLegend(chart())).toContain('Support &lt;bot&gt;</li>')
  })

  it('labels its axis in round steps, compactly', () => {
    expect(axisTicks(830)).toEqual([0, 250, 500, 750, 1000])
    expect(axisTicks(7)).toEqual([0, 2, 4, 6, 8])
    expect(axisTicks(0.013)).toEqual([0, 0.005, 0.01, 0.015])
    expect(axisTicks(0)).toEqual([0, 1])
    expect([1234, 2_500_000, 0.25, 12].map(compact)).toEqual(['1.23k', '2.5M', '0.25', '12'])
  })

  it('colours every series at 4.5:1 or more against the white page', () => {
    for (const colour of seriesColours) expect(contrast(colour, '#ffffff')).toBeGreaterThanOrEqual(4.5)
  })
})

describe("the usage page's data", () => {
  const days = daysBetween('2026-11-28', '2026-11-30')
  const perDay = new Map([
    [
      '2026-11-28',
      [
        { group: 'a1', calls: 5, total_tokens: 50, cost_usd: 0.5 },
        { group: null, calls: 1, total_tokens: 900, cost_usd: 0.01 },
      ],
    ],
    [
      '2026-11-30',
      [
        { group: 'a2', calls: 2, total_tokens: 20, cost_usd: 0.2 },
        { group: 'a3', calls: 1, total_tokens: 10, cost_usd: 0 },
      ],
    ],
  ])
  const names: Record<string, string> = { a1: 'Support', a2: 'Sales', a3: 'Triage' }
  const nameOf = (g: string | null) => (g === null ? 'No agent' : (names[g] ?? g))

  it('lists every day of the span, both ends included', () => {
    expect(days).toEqual(['2026-11-28', '2026-11-29', '2026-11-30'])
    expect(lastDays('2026-12-01', 14)).toEqual({ from: '2026-11-18', to: '2026-12-01' })
  })

  it('gives each group a series, heaviest first, with zero on days it has nothing', () => {
    expect(seriesByDay(days, perDay, 'calls', nameOf)).toEqual([
      { name: 'Support', values: [5, 0, 0] },
      { name: 'Sales', values: [0, 0, 2] },
      { name: 'No agent', values: [1, 0, 0] },
      { name: 'Triage', values: [0, 0, 1] },
    ])
    expect(seriesByDay(days, perDay, 'total_tokens', nameOf).map((s) => s.name)).toEqual(['No agent', 'Support', 'Sales', 'Triage'])
  })

  it('folds the lighter groups into "Other" past the most series a chart shows', () => {
    expect(seriesByDay(days, perDay, 'calls', nameOf, 2)).toEqual([
      { name: 'Support', values: [5, 0, 0] },
      { name: 'Other', values: [1, 0, 3] },
    ])
  })

  it('leaves out groups with nothing of the metric', () => {
    expect(seriesByDay(days, perDay, 'cost_usd', nameOf).map((s) => s.name)).toEqual(['Support', 'Sales', 'No agent'])
  })

  it('reads money as dollars, with more digits below a dollar', () => {
    expect([0, 0.000123, 0.5, 12.345].map(formatUsd)).toEqual(['$0.00', '$0.000123', '$0.50', '$12.35'])
    expect(formatCount(1234567)).toBe('1,234,567')
  })
})
