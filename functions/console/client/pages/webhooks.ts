import { deliveryTone, eventList, healthStrip, lastAnswer, retriable, type EndpointHealth } from '../../pages/webhook-health.ts'
import { api, ApiFailure, apiFetch } from '../shared/api.ts'
import { openDialog, wireCloseButtons } from '../shared/dialog.ts'
import { announce, byId, errorBox, h, when } from '../shared/dom.ts'
import { revealPermitted, startPage } from '../shared/page.ts'
import { secretDialog } from '../shared/secret-dialog.ts'

interface Endpoint {
  id: string
  url: string
  description: string | null
  events: string[]
  enabled: boolean
  disabled_reason: string | null
}

interface Delivery {
  id: string
  endpoint_id: string
  event_type: string
  status: string
  attempt_count: number
  last_error: string | null
  last_status_code: number | null
  created_at: string
}

type Health = EndpointHealth & { endpoint_id: string }

const endpointList = byId<HTMLUListElement>('endpoint-list')
const deliveryRows = byId<HTMLTableSectionElement>('delivery-rows')
const moreButton = byId<HTMLButtonElement>('more-deliveries')
const filterForm = byId<HTMLFormElement>('delivery-filter')
const endpointSelect = byId<HTMLSelectElement>('delivery-endpoint')
const statusSelect = byId<HTMLSelectElement>('delivery-status')
const endpointDialog = byId<HTMLDialogElement>('endpoint-dialog')
const endpointForm = byId<HTMLFormElement>('endpoint-form')
const endpointError = byId('endpoint-error')
const showSecret = secretDialog('endpoint-secret')

wireCloseButtons()

startPage(async ({ can }) => {
  const mayWrite = can('webhooks:write')
  let endpoints: Endpoint[] = []
  let cursor: string | null = null
  const urlOf = (id: string) => endpoints.find((e) => e.id === id)?.url ?? id

  async function loadEndpoints() {
    try {
      const [list, health] = await Promise.all([api<Endpoint[]>('GET', '/webhooks'), api<Health[]>('GET', '/webhooks/health')])
      endpoints = list
      const healthOf = new Map(health.map((x) => [x.endpoint_id, x]))
      endpointList.replaceChildren(
        ...(list.length ? list.map((e) => endpointItem(e, healthOf.get(e.id))) : [h('li', { class: 'empty' }, 'No endpoints yet.')]),
      )
      const chosen = endpointSelect.value
      endpointSelect.replaceChildren(
        h('option', { value: '' }, 'All endpoints'),
        ...list.map((e) => h('option', { value: e.id }, e.description ? `${e.description} (${e.url})` : e.url)),
      )
      endpointSelect.value = list.some((e) => e.id === chosen) ? chosen : ''
    } catch (error) {
      endpointList.replaceChildren(h('li', {}, errorBox(error)))
    }
  }

  function endpointItem(endpoint: Endpoint, health: Health | undefined): HTMLLIElement {
    const strip = health ? healthStrip(health) : null
    const titleId = `endpoint-${endpoint.id}`
    const bar = h('span', { class: 'rate-bar' }, h('span', { class: `rate-fill ${strip?.tone ?? 'neutral'}` }))
    ;(bar.firstElementChild as HTMLElement).style.width = `${strip?.successPercent ?? 0}%`
    return h(
      'li',
      { class: 'panel endpoint', 'aria-labelledby': titleId, 'data-endpoint-id': endpoint.id },
      h(
        'div',
        { class: 'endpoint-head' },
        h('h3', { id: titleId }, h('code', {}, endpoint.url)),
        h('span', { class: `badge ${strip?.tone ?? 'neutral'}` }, strip?.state ?? (endpoint.enabled ? 'enabled' : 'disabled')),
      ),
      endpoint.description && h('p', { class: 'muted' }, endpoint.description),
      h('p', { class: 'hint' }, `Events: ${endpoint.events.join(', ')}`),
      strip &&
        h(
          'dl',
          { class: 'health-strip', 'aria-label': `Last 24 hours of ${endpoint.url}` },
          h('div', {}, h('dt', {}, 'Success rate'), h('dd', { class: 'success-rate' }, bar, strip.success)),
          h('div', {}, h('dt', {}, 'p95 latency'), h('dd', { class: 'p95-latency' }, strip.latency)),
          strip.failures && h('div', {}, h('dt', {}, 'Failing'), h('dd', {}, strip.failures)),
        ),
      h(
        'div',
        { class: 'endpoint-actions' },
        h(
          'button',
          { type: 'button', class: 'button small secondary', onclick: () => showDeliveriesOf(endpoint) },
          'Show deliveries',
          h('span', { class: 'visually-hidden' }, ` to ${endpoint.url}`),
        ),
        mayWrite &&
          h(
            'button',
            {
              type: 'button',
              class: 'button small',
              onclick: (event: Event) => sendTest(endpoint, event.currentTarget as HTMLButtonElement),
            },
            'Send test event',
            h('span', { class: 'visually-hidden' }, ` to ${endpoint.url}`),
          ),
      ),
    )
  }

  function showDeliveriesOf(endpoint: Endpoint) {
    endpointSelect.value = endpoint.id
    statusSelect.value = ''
    void loadDeliveries(false)
    byId('deliveries-title').scrollIntoView({ block: 'start' })
  }

  async function sendTest(endpoint: Endpoint, button: HTMLButtonElement) {
    button.disabled = true
    try {
      await api('POST', `/webhooks/${endpoint.id}/test`)
      announce(`Test event queued for ${endpoint.url}.`)
      await loadDeliveries(false)
    } catch (error) {
      announce(error instanceof Error ? error.message : String(error))
    } finally {
      button.disabled = false
    }
  }

  async function loadDeliveries(append: boolean) {
    const search = new URLSearchParams({ limit: '25' })
    if (endpointSelect.value) search.set('endpoint_id', endpointSelect.value)
    if (statusSelect.value) search.set('status', statusSelect.value)
    if (append && cursor) search.set('cursor', cursor)
    try {
      const page = (await (await apiFetch('GET', `/webhooks/deliveries?${search}`)).json()) as {
        data: Delivery[]
        next_cursor: string | null
      }
      cursor = page.next_cursor
      const rows = page.data.map(deliveryRow)
      if (append) deliveryRows.append(...rows)
      else deliveryRows.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No deliveries.'))]))
      moreButton.hidden = cursor === null
    } catch (error) {
      deliveryRows.replaceChildren(h('tr', {}, h('td', { colspan: 7 }, errorBox(error))))
    }
  }

  function deliveryRow(d: Delivery): HTMLTableRowElement {
    const actions = h('td', { class: 'actions' })
    if (mayWrite && retriable(d.status)) {
      actions.append(
        h(
          'button',
          {
            type: 'button',
            class: 'button small secondary',
            onclick: (event: Event) => retry(d, event.currentTarget as HTMLButtonElement),
          },
          'Retry',
          h('span', { class: 'visually-hidden' }, ` ${d.event_type} delivery of ${when(d.created_at)}`),
        ),
      )
    }
    return h(
      'tr',
      { 'data-delivery-id': d.id },
      h('td', {}, h('code', {}, d.event_type)),
      h('td', {}, urlOf(d.endpoint_id)),
      h('td', {}, h('span', { class: `badge ${deliveryTone(d.status)}` }, d.status)),
      h('td', {}, String(d.attempt_count)),
      h('td', {}, lastAnswer(d)),
      h('td', {}, when(d.created_at)),
      mayWrite && actions,
    )
  }

  async function retry(d: Delivery, button: HTMLButtonElement) {
    button.disabled = true
    try {
      const queued = await api<Delivery>('POST', `/webhooks/deliveries/${d.id}/retry`)
      const row = deliveryRow(queued)
      deliveryRows.querySelector(`tr[data-delivery-id="${d.id}"]`)?.replaceWith(row)
      announce(`The ${d.event_type} delivery is queued to be sent again.`)
      byId('refresh-webhooks').focus()
    } catch (error) {
      button.disabled = false
      announce(error instanceof ApiFailure ? error.message : String(error))
    }
  }

  filterForm.addEventListener('submit', (event) => {
    event.preventDefault()
    void loadDeliveries(false)
  })
  moreButton.addEventListener('click', () => void loadDeliveries(true))
  byId('refresh-webhooks').addEventListener('click', async () => {
    await Promise.all([loadEndpoints(), loadDeliveries(false)])
    announce('Endpoints and deliveries refreshed.')
  })

  if (mayWrite) {
    byId('add-endpoint').addEventListener('click', () => {
      endpointForm.reset()
      endpointError.hidden = true
      openDialog(endpointDialog)
    })
    endpointForm.addEventListener('submit', async (event) => {
      event.preventDefault()
      const data = new FormData(endpointForm)
      const description = String(data.get('description') ?? '').trim()
      try {
        const created = await api<Endpoint & { secret: string }>('POST', '/webhooks', {
          url: String(data.get('url') ?? '').trim(),
          events: eventList(String(data.get('events') ?? '')),
          ...(description ? { description } : {}),
        })
        endpointDialog.close()
        showSecret(created.secret)
        await loadEndpoints()
      } catch (error) {
        endpointError.textContent = error instanceof Error ? error.message : String(error)
        endpointError.hidden = false
        byId<HTMLInputElement>('endpoint-url').focus()
      }
    })
  }

  await Promise.all([loadEndpoints(), loadDeliveries(false)])
  revealPermitted(can)
})
