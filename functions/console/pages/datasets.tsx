import { definePage } from '../page.ts'

/** The organisation's datasets, each linking to its rows. */
export const datasetsPage = definePage({
  path: '/datasets',
  title: 'Datasets',
  nav: 'Datasets',
  reads: 'datasets:read',
  script: 'datasets',
  body: () => (
    <>
      <div class="toolbar">
        <h1>Datasets</h1>
      </div>
      <section class="table-wrap" aria-labelledby="datasets-caption" tabindex={0}>
        <table>
          <caption id="datasets-caption" class="visually-hidden">
            Datasets
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Columns</th>
              <th scope="col">Rows</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody id="dataset-rows" />
        </table>
      </section>
    </>
  ),
})
