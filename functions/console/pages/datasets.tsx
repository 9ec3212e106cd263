import { definePage } from '../page.ts'
import { DataTable } from './data-table.tsx'

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
      <DataTable name="datasets" caption="Datasets" columns={['Name', 'Columns', 'Rows', 'Updated']} bodyId="dataset-rows" />
    </>
  ),
})
