// An inline forward: the sender's note, then the original under a header block naming who wrote it, when,
// to whom and about what, as mail programs show a forwarded message. The HTML part exists when either the note
// or the original has one; the original's HTML is quoted as it was written.
import type { OriginalMessage } from './original.ts'

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const textOfHtml = (html: string) => html.replace(/<[^>]*>/g, ' ').replace(/[ \t]+/g, ' ')

function headerLines(o: OriginalMessage): string[] {
  const from = o.from_address ? (o.from_name ? `${o.from_name} <${o.from_address}>` : o.from_address) : ''
  return [
    '---------- Forwarded message ---------',
    `From: ${from}`,
    `Date: ${new Date(o.created_at).toUTCString()}`,
    `Subject: ${o.subject ?? ''}`,
    `To: ${o.to_addresses.join(', ')}`,
    ...(o.cc_addresses.length ? [`Cc: ${o.cc_addresses.join(', ')}`] : []),
  ]
}

export function forwardedText(note: string | undefined, o: OriginalMessage): string {
  const body = o.text ?? (o.html ? textOfHtml(o.html) : '')
  return [...(note ? [note, ''] : []), ...headerLines(o), '', body].join('\n')
}

export function forwardedHtml(note: { text?: string; html?: string }, o: OriginalMessage): string | null {
  if (note.html === undefined && o.html === null) return null
  const opening = note.html ?? (note.text ? `<p>${escapeHtml(note.text).replace(/\n/g, '<br>')}</p>` : '')
  const quoted = o.html ?? `<pre>${escapeHtml(o.text ?? '')}</pre>`
  const header = headerLines(o).map(escapeHtml).join('<br>')
  return `${opening}<div class="forwarded">${header}<br><br><blockquote>${quoted}</blockquote></div>`
}
