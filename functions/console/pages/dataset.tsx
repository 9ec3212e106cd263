import { definePage } from '../page.ts'
import { filterOperators } from './dataset-filters.ts'

/**
 * One dataset's rows: a filter bar that builds PostgREST filters, the grid with the total and paging, and the
 * same query as curl and supabase-js. The filter form is an ordinary GET form, so a filtered page is a link.
 */
export const datasetPage = definePage({
  path: '/datasets/:id',
  title: 'Dataset',
  reads: 'datasets:read',
  script: 'dataset',
  body: ({ consoleBase }) => (
    <>
      <p>
        <a href={`${consoleBase}/datasets`} id="back-to-datasets">
          All datasets
        </a>
      </p>
      <div class="toolbar">
        <h1 id="dataset-name">Dataset</h1>
      </div>
      <p id="dataset-description" class="muted" hidden />

      <form id="filter-form" class="panel filter-bar" aria-labelledby="filter-title" method="get">
        <h2 id="filter-title">Filter rows</h2>
        <p class="hint">Each condition must hold. The values are sent as PostgREST filters, as you would write them in a query.</p>
        <datalist id="column-names" />
        <ol id="filter-list" class="filter-list" />
        <template id="filter-template">
          <li class="filter-row">
            <label class="field">
              <span class="label-text">Column</span>
              <input type="text" name="column" list="column-names" autocomplete="off" />
            </label>
            <label class="field">
              <span class="label-text">Operator</span>
              <select name="operator">
                {Object.entries(filterOperators).map(([op, label]) => (
                  <option value={op}>{`${op}: ${label}`}</option>
                ))}
              </select>
            </label>
            <label class="field">
              <span class="label-text">Value</span>
              <input type="text" name="value" autocomplete="off" />
            </label>
            <button type="button" class="button small secondary remove-filter">
              Remove<span class="visually-hidden"> this condition</span>
            </button>
          </li>
        </template>
        <div class="filter-actions">
          <button type="button" id="add-filter" class="button secondary">
            Add a condition
          </button>
          <div class="field inline">
            <label for="order-column">Sort by</label>
            <select id="order-column" name="order">
              <option value="">Insertion order</option>
            </select>
          </div>
          <div class="field inline">
            <label for="page-size">Rows per page</label>
            <select id="page-size" name="limit">
              <option value="10">10</option>
              <option value="25" selected>
                25
              </option>
              <option value="50">50</option>
              <option value="100">100</option>
            </select>
          </div>
          <button type="submit" class="button">
            Apply filters
          </button>
          <a id="clear-filters" href="?" class="button subtle">
            Clear
          </a>
        </div>
        <p id="filter-error" class="error" role="alert" hidden />
      </form>

      <p id="row-total" class="total" role="status" aria-live="polite" />
      <section class="table-wrap" aria-labelledby="rows-caption" tabindex={0}>
        <table>
          <caption id="rows-caption" class="visually-hidden">
            Rows
          </caption>
          <thead>
            <tr id="row-head" />
          </thead>
          <tbody id="row-body" />
        </table>
      </section>
      <nav class="pager" aria-label="Pages of rows">
        <a id="previous-page" class="button secondary" href="?" hidden>
          Previous page
        </a>
        <span id="page-position" />
        <a id="next-page" class="button secondary" href="?" hidden>
          Next page
        </a>
      </nav>

      <section class="panel snippets" aria-labelledby="snippets-title">
        <h2 id="snippets-title">The same query from code</h2>
        <h3 id="curl-title">curl</h3>
        <section class="snippet" aria-labelledby="curl-title" tabindex={0}>
          <pre>
            <code id="curl-snippet" />
          </pre>
        </section>
        <h3 id="js-title">supabase-js</h3>
        <section class="snippet" aria-labelledby="js-title" tabindex={0}>
          <pre>
            <code id="js-snippet" />
          </pre>
        </section>
      </section>
    </>
  ),
})
