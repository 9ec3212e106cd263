// Building the DOM from data: text is always set as text, never parsed as HTML, so nothing the API returns
// (an agent's name, a message) can become markup.

type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>
type ChildNode = Node | string | number | null | undefined | false

/** `h('button', { type: 'button', onclick: revoke }, 'Revoke')`: `on…` attributes become listeners, false/null are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: ChildNode[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value)
    else if (value === true) element.setAttribute(name, '')
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(name, String(value))
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) element.append(typeof child === 'number' ? String(child) : child)
  }
  return element
}

/** The element with this id, which the page's markup promises. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (!element) throw new Error(`The page has no #${id}.`)
  return element as T
}

/** Says something to screen readers (the layout's live region) without moving focus. */
export function announce(message: string): void {
  const region = document.getElementById('announcer')
  if (!region) return
  region.textContent = ''
  // A fresh text node after a clear makes screen readers read the same message twice in a row.
  setTimeout(() => {
    region.textContent = message
  }, 50)
}

/** A date as the reader's locale writes it, or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—'
}

/** A cost in US dollars with the precision small costs need. */
export function usd(amount: number | null | undefined): string {
  if (amount === null || amount === undefined) return 'unknown'
  return `$${amount < 0.01 ? amount.toFixed(6) : amount.toFixed(4)}`
}

/** An error shown in place of a region's content. */
export function errorBox(error: unknown): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, error instanceof Error ? error.message : String(error))
}
