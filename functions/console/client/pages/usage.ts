import { chartLegend, chartTable, type StackedChart, stackedBarSvg } from '../../pages/usage-chart.ts'
import {
  type CostSums,
  daysBetween,
  formatCount,
  formatUsd,
  lastDays,
  seriesByDay,
  type UsageMetric,
  type UsageSplit,
  usageSplits,
} from '../../pages/usage-data.ts'
import { api, apiFetch } from '../shared/api.ts'
import { byId, errorBox, h } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'

interface Costs {
  from: string
  to: string
  data: (CostSums & { prompt_tokens: number; completion_tokens: number; unpriced_calls: number })[]
  total: CostSums & { unpriced_calls: number }
}

const periods = [7, 14, 30]
const charts: { id: string; title: string; metric: UsageMetric; unit: string; format: (n: number) => string }[] = [
  { id: 'requests', title: 'Requests per day', metric: 'calls', unit: 'requests', format: formatCount },
  { id: 'tokens', title: 'Tokens per day', metric: 'total_tokens', unit: 'tokens', format: formatCount },
  { id: 'cost', title: 'Cost per day', metric: 'cost_usd', unit: 'USD', format: formatUsd },
]

const costs = async (query: string) => (await (await apiFetch('GET', `/costs?${query}`)).json()) as Costs

startPage(async ({ can }) => {
  const search = new URLSearchParams(location.search)
  const days = periods.includes(Number(search.get('days'))) ? Number(search.get('days')) : 14
  const split: UsageSplit = (usageSplits as readonly string[]).includes(search.get('split') ?? '')
    ? (search.get('split') as UsageSplit)
    : 'agent'
  byId<HTMLSelectElement>('usage-days').value = String(days)
  byId<HTMLSelectElement>('usage-split').value = split

  try {
    const { from, to } = lastDays(new Date().toISOString().slice(0, 10), days)
    // The API sums per day or per agent/model: the days with usage are asked for their split one by one.
    const byDay = await costs(`group_by=day&from=${from}&to=${to}`)
    // Two at a time: a small plan caps concurrent requests, and a month of days stays within its rate limit.
    const perDay = new Map<string, CostSums[]>()
    const busyDays = byDay.data.filter((d) => d.calls > 0 && d.group).map((d) => d.group!)
    for (let i = 0; i < busyDays.length; i += 2) {
      const pair = busyDays.slice(i, i + 2)
      const answers = await Promise.all(pair.map((d) => costs(`group_by=${split}&from=${d}&to=${d}`)))
      for (const [j, d] of pair.entries()) perDay.set(d, answers[j].data)
    }
    const names = split === 'agent' && can('agents:read') ? await agentNames() : new Map<string, string>()
    const nameOf = (group: string | null) =>
      group === null
        ? split === 'agent'
          ? 'No agent'
          : 'Unknown model'
        : (names.get(group) ?? (split === 'agent' ? `Agent ${group.slice(0, 8)}` : group))

    const span = daysBetween(from, to)
    const totals = [
      ['Requests', formatCount(byDay.total.calls)],
      ['Tokens', formatCount(byDay.total.total_tokens)],
      ['Cost', formatUsd(byDay.total.cost_usd)],
    ]
    if (byDay.total.unpriced_calls > 0) totals.push(['Requests without a price', formatCount(byDay.total.unpriced_calls)])
    byId('usage-totals').replaceChildren(...totals.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))))
    for (const c of charts) {
      const chart: StackedChart = {
        id: `${c.id}-svg`,
        title: `${c.title}, by ${split}, ${from} to ${to}`,
        days: span,
        series: seriesByDay(span, perDay, c.metric, nameOf),
        format: c.format,
        unit: c.unit,
      }
      // The chart's markup is built with every text escaped (usage-chart.ts), so it is parsed as it is.
      byId(`${c.id}-chart`).innerHTML = stackedBarSvg(chart)
      byId(`${c.id}-legend`).innerHTML = chartLegend(chart)
      byId(`${c.id}-table`).innerHTML = chartTable(chart)
    }
  } catch (error) {
    byId('usage-totals').replaceWith(errorBox(error))
  }
})

async function agentNames(): Promise<Map<string, string>> {
  try {
    const agents = await api<{ id: string; name: string }[]>('GET', '/agents')
    return new Map(agents.map((a) => [a.id, a.name]))
  } catch {
    return new Map()
  }
}
