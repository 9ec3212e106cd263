import {
  curlCommand,
  filtersFromSearch,
  type RowFilter,
  type RowPageRequest,
  rowQueryString,
  supabaseJsCall,
} from '../../pages/dataset-filters.ts'
import { api, ApiFailure } from '../shared/api.ts'
import { byId, errorBox, h } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'
import { settings } from '../shared/settings.ts'
import type { Dataset } from './datasets.ts'

interface RowPage {
  rows: Record<string, unknown>[]
  total: number
  columns: string[]
}

const pageSizes = [10, 25, 50, 100]
const systemColumns = ['id', 'created_at', 'updated_at']

const form = byId<HTMLFormElement>('filter-form')
const list = byId<HTMLOListElement>('filter-list')
const template = byId<HTMLTemplateElement>('filter-template')
const filterError = byId('filter-error')
const total = byId('row-total')
const head = byId<HTMLTableRowElement>('row-head')
const body = byId<HTMLTableSectionElement>('row-body')
const datasetId = decodeURIComponent(location.pathname.split('/').pop() ?? '')

/** What the page shows, from its own URL: the filter form's fields, the sort, the page size and the offset. */
function requestFromUrl(): RowPageRequest {
  const search = new URLSearchParams(location.search)
  const limit = Number(search.get('limit'))
  const order = search.get('order') ?? ''
  return {
    filters: filtersFromSearch(search),
    order: order ? { column: order.replace(/^-/, ''), descending: order.startsWith('-') } : null,
    limit: pageSizes.includes(limit) ? limit : 25,
    offset: Math.max(0, Math.floor(Number(search.get('offset')) || 0)),
  }
}

/** The page's URL for a request: what the filter form submits, plus the offset. */
function urlFor(request: RowPageRequest): string {
  const search = new URLSearchParams()
  for (const f of request.filters) {
    search.append('column', f.column)
    search.append('operator', f.operator)
    search.append('value', f.value)
  }
  if (request.order) search.set('order', `${request.order.descending ? '-' : ''}${request.order.column}`)
  search.set('limit', String(request.limit))
  if (request.offset) search.set('offset', String(request.offset))
  return `?${search}`
}

let rowCounter = 0
function addFilterRow(filter: RowFilter | null, focus = false): void {
  const item = template.content.firstElementChild!.cloneNode(true) as HTMLLIElement
  const n = ++rowCounter
  for (const text of item.querySelectorAll('.label-text')) text.append(h('span', { class: 'visually-hidden' }, ` of condition ${n}`))
  const [column, operator, value] = (['column', 'operator', 'value'] as const).map(
    (name) => item.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)!,
  )
  if (filter) {
    column.value = filter.column
    operator.value = filter.operator
    value.value = filter.value
  }
  item.querySelector('.remove-filter')!.addEventListener('click', () => {
    item.remove()
    byId('add-filter').focus()
  })
  list.append(item)
  if (focus) column.focus()
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

startPage(async () => {
  const request = requestFromUrl()
  let dataset: Dataset
  try {
    dataset = await api<Dataset>('GET', `/datasets/${encodeURIComponent(datasetId)}`)
  } catch (error) {
    form.hidden = true
    total.replaceWith(errorBox(error))
    return
  }
  document.title = `${dataset.name} · Agentry console`
  byId('dataset-name').textContent = dataset.name
  if (dataset.description) {
    byId('dataset-description').textContent = dataset.description
    byId('dataset-description').hidden = false
  }
  const known = [...dataset.columns.map((c) => c.name), ...systemColumns]
  byId('column-names').replaceChildren(...known.map((name) => h('option', { value: name })))
  const orderSelect = byId<HTMLSelectElement>('order-column')
  for (const name of known) {
    orderSelect.append(h('option', { value: name }, `${name}, ascending`), h('option', { value: `-${name}` }, `${name}, descending`))
  }
  if (request.order) orderSelect.value = `${request.order.descending ? '-' : ''}${request.order.column}`
  byId<HTMLSelectElement>('page-size').value = String(request.limit)
  for (const f of request.filters) addFilterRow(f)
  if (request.filters.length === 0) addFilterRow(null)
  byId('add-filter').addEventListener('click', () => addFilterRow(null, true))
  // An untouched condition row is not sent.
  form.addEventListener('submit', () => {
    for (const row of [...list.children]) {
      const column = row.querySelector<HTMLInputElement>('[name="column"]')!
      const value = row.querySelector<HTMLInputElement>('[name="value"]')!
      if (!column.value.trim() && !value.value.trim()) row.remove()
    }
  })

  const types = Object.fromEntries(dataset.columns.map((c) => [c.name, c.type]))
  const apiUrl = new URL(settings.apiBase, location.href).href
  byId('curl-snippet').textContent = curlCommand(apiUrl, dataset.id, request)
  byId('js-snippet').textContent = supabaseJsCall(apiUrl.replace(/\/v1$/, ''), dataset.name, request, types)

  try {
    const page = await api<RowPage>('GET', `/datasets/${encodeURIComponent(dataset.id)}/rows?${rowQueryString(request)}`)
    showRows(dataset, page)
    showPaging(request, page)
  } catch (error) {
    total.textContent = ''
    if (error instanceof ApiFailure && error.status === 400) {
      filterError.textContent = `The filters were not accepted: ${error.message}`
      filterError.hidden = false
    } else {
      body.replaceChildren(h('tr', {}, h('td', {}, errorBox(error))))
    }
  }
})

function showRows(dataset: Dataset, page: RowPage) {
  const columns = [...page.columns]
  for (const row of page.rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key)
  head.replaceChildren(...columns.map((c) => h('th', { scope: 'col' }, c)))
  body.replaceChildren(
    ...(page.rows.length
      ? page.rows.map((row) => h('tr', {}, ...columns.map((c) => h('td', {}, cell(row[c])))))
      : [h('tr', {}, h('td', { colspan: Math.max(1, columns.length), class: 'empty' }, 'No rows match.'))]),
  )
  byId('rows-caption').textContent = `Rows of ${dataset.name}`
}

function showPaging(request: RowPageRequest, page: RowPage) {
  const first = page.rows.length ? request.offset + 1 : 0
  const last = request.offset + page.rows.length
  const matching = `${page.total.toLocaleString()} ${page.total === 1 ? 'row matches' : 'rows match'}`
  total.textContent = request.filters.length ? matching : `${page.total.toLocaleString()} ${page.total === 1 ? 'row' : 'rows'} in all`
  byId('page-position').textContent = page.total ? `Rows ${first}–${last} of ${page.total.toLocaleString()}` : ''
  const previous = byId<HTMLAnchorElement>('previous-page')
  const next = byId<HTMLAnchorElement>('next-page')
  previous.hidden = request.offset === 0
  previous.href = urlFor({ ...request, offset: Math.max(0, request.offset - request.limit) })
  next.hidden = last >= page.total
  next.href = urlFor({ ...request, offset: request.offset + request.limit })
}
