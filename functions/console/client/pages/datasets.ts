import { api } from '../shared/api.ts'
import { byId, errorBox, h, when } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'
import { consoleUrl } from '../shared/settings.ts'

export interface Dataset {
  id: string
  name: string
  description: string | null
  columns: { name: string; type: string }[]
  open: boolean
  row_count: number
  updated_at: string
}

const rows = byId<HTMLTableSectionElement>('dataset-rows')

startPage(async () => {
  try {
    const datasets = await api<Dataset[]>('GET', '/datasets')
    rows.replaceChildren(
      ...(datasets.length
        ? datasets.map((d) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: consoleUrl(`/datasets/${d.id}`) }, d.name)),
              h('td', {}, d.columns.length ? d.columns.map((c) => c.name).join(', ') : d.open ? 'Any keys' : '—'),
              h('td', {}, d.row_count.toLocaleString()),
              h('td', {}, when(d.updated_at)),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No datasets yet.'))]),
    )
  } catch (error) {
    rows.replaceChildren(h('tr', {}, h('td', { colspan: 4 }, errorBox(error))))
  }
})
