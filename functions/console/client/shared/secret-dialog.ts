import { openDialog } from './dialog.ts'
import { byId } from './dom.ts'

/**
 * Wires the copy button of the dialog `pages/secret-dialog.tsx` rendered as `<id>-dialog`, and returns what shows
 * a secret in it once: the text is wiped when the dialog closes, as the API never returns the secret again.
 */
export function secretDialog(id: string): (secret: string) => void {
  const dialog = byId<HTMLDialogElement>(`${id}-dialog`)
  const output = byId(`${id}-value`)
  const copy = dialog.querySelector<HTMLButtonElement>('[data-copy-secret]')!
  const status = byId(`${id}-copy-status`)

  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(output.textContent ?? '')
      status.textContent = 'Copied to the clipboard.'
    } catch {
      status.textContent = `The browser refused the clipboard: select the ${dialog.dataset.secretNoun} and copy it.`
    }
  })
  dialog.addEventListener('close', () => {
    output.textContent = ''
    status.textContent = ''
  })

  return (secret) => {
    output.textContent = secret
    status.textContent = ''
    openDialog(dialog, copy)
  }
}
