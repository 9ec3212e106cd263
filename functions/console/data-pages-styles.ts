// The datasets, webhooks and usage pages' additions to the console's stylesheet (styles.ts), in its colours.
export const dataPageStyles = `
.inline-form { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .75rem; }
.field.inline { margin-bottom: 0; min-width: 0; max-width: 100%; }
.inline-form select, .filter-actions select { max-width: 100%; }
.field.inline label { display: block; }
.filter-bar h2 { margin-top: 0; font-size: 1.125rem; }
.filter-list { list-style: none; margin: 0 0 .75rem; padding: 0; display: grid; gap: .5rem; }
.filter-row { display: grid; grid-template-columns: minmax(8rem, 1fr) minmax(10rem, 1.2fr) minmax(8rem, 1fr) auto; gap: .5rem;
  align-items: end; }
.filter-row .field { margin-bottom: 0; }
.filter-actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
.total { font-weight: 600; margin: 1rem 0 .5rem; }
.pager { display: flex; align-items: center; gap: .75rem; margin: .75rem 0 1.25rem; }
/* A hidden button (a write action the credential may not use, a page link at the end) stays hidden. */
.button[hidden] { display: none; }
.snippets { margin-top: 1rem; }
.snippets h2 { margin-top: 0; font-size: 1.125rem; }
.snippets h3 { font-size: 1rem; margin: .75rem 0 .25rem; }
.snippet { background: var(--ink); color: #f9fafb; padding: .75rem; border-radius: .375rem; overflow-x: auto; }
.snippet pre { margin: 0; }
.snippet code { color: inherit; white-space: pre; }
.filter-row .label-text { display: block; font-weight: 600; }
.endpoint-list { list-style: none; margin: 0 0 1.5rem; padding: 0; display: grid; gap: .75rem; }
.endpoint-head { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: space-between; }
.endpoint-head h3 { margin: 0; font-size: 1rem; word-break: break-all; }
.endpoint p { margin: .25rem 0; }
.health-strip { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: .5rem 0; }
.health-strip dt { font-size: .8125rem; color: var(--muted); }
.health-strip dd { margin: 0; font-weight: 600; display: flex; align-items: center; gap: .5rem; }
.rate-bar { display: inline-block; width: 6rem; height: .625rem; border: 1px solid var(--muted); border-radius: 999px;
  overflow: hidden; background: var(--paper); }
.rate-fill { display: block; height: 100%; background: var(--muted); }
.rate-fill.ok { background: #15803d; }
.rate-fill.warn { background: #b45309; }
.rate-fill.bad { background: var(--danger); }
.badge.neutral { color: var(--ink); background: #e5e7eb; }
.endpoint-actions { display: flex; flex-wrap: wrap; gap: .5rem; }
.totals { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.totals div { background: var(--paper); border: 1px solid var(--line); border-radius: .5rem; padding: .5rem 1rem; }
.totals dt { font-size: .8125rem; color: var(--muted); }
.totals dd { margin: 0; font-size: 1.25rem; font-weight: 700; }
.chart-panel { margin-bottom: 1rem; }
.chart-panel h2 { margin-top: 0; font-size: 1.125rem; }
.chart { width: 100%; height: auto; display: block; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; padding: 0; margin: .5rem 0; font-size: .875rem; }
.legend li { display: flex; align-items: center; gap: .375rem; }
.chart-panel details { margin-top: .5rem; }
.chart-panel summary { cursor: pointer; color: var(--accent); }
.chart-table caption { text-align: left; font-weight: 600; padding: .5rem .75rem; }
@media (max-width: 760px) {
  .filter-row { grid-template-columns: 1fr; padding-bottom: .5rem; border-bottom: 1px solid var(--line); }
}
`
