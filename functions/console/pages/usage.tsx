import { definePage } from '../page.ts'

const charts = [
  { id: 'requests', title: 'Requests per day' },
  { id: 'tokens', title: 'Tokens per day' },
  { id: 'cost', title: 'Cost per day' },
]

/**
 * Requests, tokens and cost per day from the usage ledger (GET /costs), split by agent or model. Each chart is
 * an SVG with a title and a summary, a key to its colours, and a table of the same numbers.
 */
export const usagePage = definePage({
  path: '/usage',
  title: 'Usage and cost',
  nav: 'Usage and cost',
  reads: 'runs:read',
  script: 'usage',
  body: () => (
    <>
      <div class="toolbar">
        <h1>Usage and cost</h1>
      </div>
      <form id="usage-form" class="panel inline-form" method="get" aria-label="Usage period and split">
        <div class="field inline">
          <label for="usage-days">Period</label>
          <select id="usage-days" name="days">
            <option value="7">Last 7 days</option>
            <option value="14" selected>
              Last 14 days
            </option>
            <option value="30">Last 30 days</option>
          </select>
        </div>
        <div class="field inline">
          <label for="usage-split">Split by</label>
          <select id="usage-split" name="split">
            <option value="agent">Agent</option>
            <option value="model">Model</option>
          </select>
        </div>
        <button type="submit" class="button secondary">
          Show
        </button>
      </form>
      <dl id="usage-totals" class="totals" aria-label="Totals for the period" />
      {charts.map((chart) => (
        <section class="panel chart-panel" aria-labelledby={`${chart.id}-heading`} id={`${chart.id}-section`}>
          <h2 id={`${chart.id}-heading`}>{chart.title}</h2>
          <div class="chart-box" id={`${chart.id}-chart`} />
          <div id={`${chart.id}-legend`} />
          <details>
            <summary>{`${chart.title} as a table`}</summary>
            <section class="table-wrap" id={`${chart.id}-table`} aria-labelledby={`${chart.id}-heading`} tabindex={0} />
          </details>
        </section>
      ))}
    </>
  ),
})
