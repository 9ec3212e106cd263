import { api, ApiFailure } from '../shared/api.ts'
import { confirmAction, openDialog, wireCloseButtons } from '../shared/dialog.ts'
import { announce, byId, errorBox, h, when } from '../shared/dom.ts'
import { startPage } from '../shared/page.ts'
import { secretDialog } from '../shared/secret-dialog.ts'

interface ApiKey {
  id: string
  name: string
  prefix: string
  kind: 'org' | 'agent'
  scopes: string[]
  status: 'active' | 'revoked'
  created_at: string
  last_used_at: string | null
  calls: number
  expires_at: string | null
}

type CreatedKey = ApiKey & { key: string }

const rows = byId<HTMLTableSectionElement>('token-rows')
const generateDialog = byId<HTMLDialogElement>('generate-dialog')
const generateForm = byId<HTMLFormElement>('generate-form')
const showSecret = secretDialog('secret')
const rotateDialog = byId<HTMLDialogElement>('rotate-dialog')
const rotateForm = byId<HTMLFormElement>('rotate-form')

wireCloseButtons()

startPage(async ({ can }) => {
  const mayWrite = can('keys:write')

  async function load() {
    try {
      const keys = await api<ApiKey[]>('GET', '/agent/api-keys')
      rows.replaceChildren(...(keys.length ? keys.map(row) : [emptyRow()]))
    } catch (error) {
      rows.replaceChildren(h('tr', {}, h('td', { colspan: 7 }, errorBox(error))))
    }
  }

  function row(key: ApiKey): HTMLTableRowElement {
    const expired = key.status === 'active' && key.expires_at !== null && Date.parse(key.expires_at) <= Date.now()
    const status = expired ? 'expired' : key.status
    const actions = [
      key.status === 'active' &&
        h('button', { type: 'button', class: 'button small secondary', onclick: () => askRotate(key) }, 'Rotate', hiddenName(key)),
      key.status === 'active' &&
        h('button', { type: 'button', class: 'button small secondary danger-text', onclick: () => revoke(key) }, 'Revoke', hiddenName(key)),
      h('button', { type: 'button', class: 'button small danger', onclick: () => remove(key) }, 'Delete', hiddenName(key)),
    ]
    return h(
      'tr',
      { 'data-key-id': key.id },
      h('td', {}, key.name),
      h('td', {}, h('code', {}, key.prefix)),
      h(
        'td',
        {},
        h('span', { class: `badge ${status}` }, status),
        // A rotated token in its grace period, or any token with an expiry: when it stops working.
        status === 'active' && key.expires_at !== null && h('span', { class: 'hint' }, ` until ${when(key.expires_at)}`),
      ),
      h('td', {}, when(key.created_at)),
      h('td', {}, key.last_used_at ? when(key.last_used_at) : 'Never'),
      h('td', {}, key.calls.toLocaleString()),
      mayWrite && h('td', {}, h('div', { class: 'actions' }, ...actions)),
    )
  }

  /** "Revoke" alone is ambiguous to a screen reader going through the table's buttons. */
  const hiddenName = (key: ApiKey) => h('span', { class: 'visually-hidden' }, ` ${key.name}`)

  const emptyRow = () => h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No tokens yet.'))

  async function revoke(key: ApiKey) {
    const ok = await confirmAction({
      title: 'Revoke token',
      message: `Revoke the token “${key.name}” (${key.prefix})? Requests made with it are refused from now on. Its record and history stay.`,
      confirmLabel: 'Revoke token',
      danger: true,
    })
    if (!ok) return
    await act(() => api('DELETE', `/agent/api-keys/${key.id}`), `Token “${key.name}” revoked.`)
  }

  async function remove(key: ApiKey) {
    const ok = await confirmAction({
      title: 'Delete token',
      message: `Delete the token “${key.name}” (${key.prefix}) and its record for good? This cannot be undone.`,
      confirmLabel: 'Delete token',
      danger: true,
    })
    if (!ok) return
    await act(() => api('DELETE', `/agent/api-keys/${key.id}?permanent=true`), `Token “${key.name}” deleted.`)
  }

  async function act(call: () => Promise<unknown>, done: string) {
    try {
      await call()
      announce(done)
    } catch (error) {
      announce(error instanceof Error ? error.message : String(error))
      alertAbove(error)
    }
    await load()
  }

  function alertAbove(error: unknown) {
    document.querySelector('.table-wrap')?.before(errorBox(error))
  }

  let rotating: ApiKey | null = null
  function askRotate(key: ApiKey) {
    rotating = key
    byId('rotate-message').textContent =
      `A new token replaces “${key.name}” (${key.prefix}) with the same scopes. The old one keeps working for the time you choose, so deployments can switch over.`
    byId('rotate-error').hidden = true
    openDialog(rotateDialog, byId('grace'))
  }

  rotateForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!rotating) return
    const grace = Number(new FormData(rotateForm).get('grace'))
    try {
      const created = await api<CreatedKey>('POST', `/agent/api-keys/${rotating.id}/rotate`, { grace_period_seconds: grace })
      rotateDialog.close()
      await load()
      showSecret(created.key)
    } catch (error) {
      showFormError('rotate-error', error)
    }
  })

  byId('generate').addEventListener('click', () => {
    generateForm.reset()
    byId('generate-error').hidden = true
    openDialog(generateDialog, byId('token-name'))
  })

  generateForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const form = new FormData(generateForm)
    const name = String(form.get('name') ?? '').trim()
    const scopes = form.getAll('scopes').map(String)
    if (!name) return showFormError('generate-error', new Error('Give the token a name.'), byId('token-name'))
    if (scopes.length === 0) return showFormError('generate-error', new Error('Choose at least one scope.'), byId('scope-all-read'))
    const days = Number(form.get('expiry') || 0)
    const body: Record<string, unknown> = { name, scopes }
    if (days) body.expires_at = new Date(Date.now() + days * 86_400_000).toISOString()
    try {
      const created = await api<CreatedKey>('POST', '/agent/api-keys', body)
      generateDialog.close()
      await load()
      showSecret(created.key)
    } catch (error) {
      showFormError('generate-error', error)
    }
  })

  function showFormError(id: string, error: unknown, focus?: HTMLElement) {
    const box = byId(id)
    box.textContent = error instanceof ApiFailure || error instanceof Error ? error.message : String(error)
    box.hidden = false
    focus?.focus()
  }

  await load()
})
