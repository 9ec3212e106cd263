import { h } from './dom.ts'

const focusable =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

/**
 * Opens a modal <dialog>: the page behind it is inert, Tab and Shift+Tab cycle inside it, Escape closes it, and
 * focus goes back to what had it (the button that opened it) when it closes, however it closes.
 */
export function openDialog(dialog: HTMLDialogElement, initialFocus?: HTMLElement): void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null
  const trap = (event: KeyboardEvent) => {
    if (event.key !== 'Tab') return
    const items = [...dialog.querySelectorAll<HTMLElement>(focusable)].filter((el) => el.offsetParent !== null)
    if (items.length === 0) return
    const first = items[0]
    const last = items[items.length - 1]
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault()
      first.focus()
    }
  }
  dialog.addEventListener('keydown', trap)
  dialog.addEventListener(
    'close',
    () => {
      dialog.removeEventListener('keydown', trap)
      if (opener?.isConnected) opener.focus()
    },
    { once: true },
  )
  dialog.showModal()
  ;(initialFocus ?? dialog.querySelector<HTMLElement>(focusable))?.focus()
}

/** Makes every `data-close` button inside a page's dialogs close its dialog (Cancel, Done). */
export function wireCloseButtons(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>('dialog [data-close]')) {
    button.addEventListener('click', () => button.closest('dialog')!.close())
  }
}

export interface Confirmation {
  title: string
  /** The sentence that names what will happen to what: "Revoke the token “CI deploy”?" */
  message: string
  confirmLabel: string
  danger?: boolean
}

/** Asks for a confirmation in a modal dialog; resolves true only when the confirm button was pressed. */
export function confirmAction({ title, message, confirmLabel, danger = false }: Confirmation): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = `confirm-title-${Math.random().toString(36).slice(2)}`
    const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel')
    const confirm = h('button', { type: 'button', class: danger ? 'button danger' : 'button' }, confirmLabel)
    const dialog = h(
      'dialog',
      { 'aria-labelledby': titleId, class: 'confirm' },
      h('div', { class: 'dialog-body' }, h('h2', { id: titleId }, title), h('p', {}, message)),
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    )
    let confirmed = false
    cancel.addEventListener('click', () => dialog.close())
    confirm.addEventListener('click', () => {
      confirmed = true
      dialog.close()
    })
    dialog.addEventListener('close', () => {
      dialog.remove()
      resolve(confirmed)
    })
    document.body.append(dialog)
    openDialog(dialog, cancel)
  })
}
