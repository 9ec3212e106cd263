// Addresses as a send names them: `someone@example.com` or `Name <someone@example.com>`. Whatever goes into
// a header is refused if it holds a line break (header injection) or another control character.

export interface Mailbox {
  /** Lower-cased. */
  address: string
  name: string | null
}

const localPart = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
const label = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
const addressShape = new RegExp(`^${localPart}@${label}(?:\\.${label})*$`)
const named = /^\s*(?:"([^"\\]*)"|([^"<>]*?))\s*<([^<>]+)>\s*$/

export function hasLineBreak(text: string): boolean {
  return /[\r\n]/.test(text)
}

export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return true
  }
  return false
}

export function isAddress(text: string): boolean {
  return text.length <= 254 && addressShape.test(text)
}

/** The mailbox `text` names, or null when it names none (or smuggles anything into a header). */
export function parseMailbox(text: string): Mailbox | null {
  if (hasControlCharacter(text)) return null
  const trimmed = text.trim()
  if (isAddress(trimmed)) return { address: trimmed.toLowerCase(), name: null }
  const m = named.exec(trimmed)
  if (!m || !isAddress(m[3].trim())) return null
  const name = (m[1] ?? m[2] ?? '').trim()
  return { address: m[3].trim().toLowerCase(), name: name || null }
}

/** A mailbox as a header shows it. */
export function formatMailbox(m: Mailbox): string {
  return m.name ? `"${m.name.replace(/["\\]/g, '')}" <${m.address}>` : m.address
}
