// Usage charts drawn on the server as SVG: stacked bars per day, one colour per agent or model. No charting
// library and no script, so the chart shows offline and without JavaScript; a table carries the same numbers
// for anyone who cannot see it.

export interface ChartSeries {
  name: string
  /** One value per day, in the order of the chart's days. */
  values: number[]
}

export interface StackedChart {
  /** Unique on the page: the SVG's title and description are referenced by it. */
  id: string
  title: string
  days: string[]
  series: ChartSeries[]
  /** How a value reads in the table, the description and a bar's tooltip. */
  format: (value: number) => string
  /** The unit after a value in sentences: "requests", "tokens", "USD". */
  unit: string
}

/**
 * Colours for series, each at least 4.5:1 against white, so bars and legend swatches stay distinct from the
 * page (non-text contrast asks 3:1); the last, grey, is for "Other".
 */
export const seriesColours = ['#1f5fa8', '#b3471d', '#2e7d32', '#7b3fa0', '#a3195b', '#00707a', '#6d5d00', '#595959'] as const

export const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')

const width = 640
const height = 260
const margin = { top: 12, right: 12, bottom: 36, left: 64 }

/** 0 and up to five round steps covering `max`: 0, 250, 500, 750, 1000 for 830. */
export function axisTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1]
  const rough = max / 4
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude
  const ticks: number[] = []
  for (let t = 0; t < max + step - step * 1e-9 && ticks.length < 7; t += step) ticks.push(Number(t.toPrecision(12)))
  return ticks
}

/** A short axis label: 1.2k, 3.4M, or the value itself when small. */
export function compact(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${trim(value / 1e9)}G`
  if (abs >= 1e6) return `${trim(value / 1e6)}M`
  if (abs >= 1e3) return `${trim(value / 1e3)}k`
  return trim(value)
}

const trim = (n: number) => String(Number(n.toPrecision(3)))

export const dayTotals = (chart: StackedChart) => chart.days.map((_, d) => chart.series.reduce((sum, s) => sum + (s.values[d] ?? 0), 0))

/** One sentence for screen readers: the span, the total and the busiest day. */
export function chartSummary(chart: StackedChart): string {
  const totals = dayTotals(chart)
  const total = totals.reduce((a, b) => a + b, 0)
  if (chart.days.length === 0 || total === 0) return `No ${chart.unit} in this period.`
  const busiest = totals.indexOf(Math.max(...totals))
  const split = chart.series.length > 1 ? `, split into ${chart.series.length} series (${chart.series.map((s) => s.name).join(', ')})` : ''
  return (
    `${chart.format(total)} ${chart.unit} from ${chart.days[0]} to ${chart.days[chart.days.length - 1]}${split}; ` +
    `the most on ${chart.days[busiest]}: ${chart.format(totals[busiest])}.`
  )
}

/** The chart as an SVG element, described by its title and a one-sentence summary. */
export function stackedBarSvg(chart: StackedChart): string {
  const titleId = `${chart.id}-title`
  const descId = `${chart.id}-desc`
  const totals = dayTotals(chart)
  const ticks = axisTicks(Math.max(0, ...totals))
  const top = ticks[ticks.length - 1]
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const y = (v: number) => margin.top + plotH - (v / top) * plotH
  const band = plotW / Math.max(1, chart.days.length)
  const barW = Math.max(1, band * 0.7)
  const labelEvery = Math.ceil(chart.days.length / 8)
  const parts: string[] = []

  for (const t of ticks) {
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#d0d0d0" stroke-width="1"/>`,
      `<text x="${margin.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${escapeXml(compact(t))}</text>`,
    )
  }
  chart.days.forEach((day, d) => {
    const x = margin.left + d * band + (band - barW) / 2
    let base = 0
    chart.series.forEach((s, i) => {
      const v = s.values[d] ?? 0
      if (v <= 0) return
      const tip = `${day} · ${s.name}: ${chart.format(v)} ${chart.unit}`
      parts.push(
        `<rect x="${f(x)}" y="${f(y(base + v))}" width="${f(barW)}" height="${f(y(base) - y(base + v))}" ` +
          `fill="${seriesColours[i % seriesColours.length]}" stroke="#ffffff" stroke-width="0.5" data-day="${day}" ` +
          `data-series="${escapeXml(s.name)}" data-value="${v}"><title>${escapeXml(tip)}</title></rect>`,
      )
      base += v
    })
    if (d % labelEvery === 0) {
      parts.push(`<text x="${f(x + barW / 2)}" y="${height - margin.bottom + 16}" text-anchor="middle">${escapeXml(day.slice(5))}</text>`)
    }
  })
  parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${f(y(0))}" y2="${f(y(0))}" stroke="#1a1a1a" stroke-width="1"/>`)

  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" role="img" ` +
    `aria-labelledby="${titleId} ${descId}" font-family="system-ui, sans-serif" font-size="12" fill="#1a1a1a">` +
    `<title id="${titleId}">${escapeXml(chart.title)}</title><desc id="${descId}">${escapeXml(chartSummary(chart))}</desc>` +
    parts.join('') +
    '</svg>'
  )
}

const f = (n: number) => String(Math.round(n * 10) / 10)

/** The key to the colours, as a list beside the chart (swatches drawn as SVG: the console's policy forbids inline styles). */
export function chartLegend(chart: StackedChart): string {
  if (chart.series.length < 2) return ''
  const items = chart.series.map(
    (s, i) =>
      `<li><svg class="swatch" width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${seriesColours[i % seriesColours.length]}"/></svg>${escapeXml(s.name)}</li>`,
  )
  return `<ul class="legend" aria-label="${escapeXml(`${chart.title}: key`)}">${items.join('')}</ul>`
}

/** The chart's numbers as a table: a row per day, a column per series and the day's total. */
export function chartTable(chart: StackedChart): string {
  const totals = dayTotals(chart)
  const head = ['<th scope="col">Day</th>', ...chart.series.map((s) => `<th scope="col">${escapeXml(s.name)}</th>`)]
  if (chart.series.length > 1) head.push('<th scope="col">Total</th>')
  const rows = chart.days.map((day, d) => {
    const cells = chart.series.map((s) => `<td>${escapeXml(chart.format(s.values[d] ?? 0))}</td>`)
    if (chart.series.length > 1) cells.push(`<td>${escapeXml(chart.format(totals[d]))}</td>`)
    return `<tr><th scope="row">${escapeXml(day)}</th>${cells.join('')}</tr>`
  })
  return (
    `<table class="chart-table"><caption>${escapeXml(chart.title)}</caption>` +
    `<thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`
  )
}
