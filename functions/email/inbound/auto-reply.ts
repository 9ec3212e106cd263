// Whether a message was sent by a machine answering mail (an out-of-office, a list, a bounce): agents use
// the mark to avoid answering it and looping with another automaton.

export interface HeaderField {
  key: string
  value: string
}

/** RFC 3834's Auto-Submitted (anything but "no"), and the older X-Autoreply, X-Autorespond and Precedence. */
export function isAutoReply(headers: HeaderField[]): boolean {
  for (const { key, value } of headers) {
    const v = value.trim().toLowerCase()
    switch (key.toLowerCase()) {
      case 'auto-submitted':
        if (v !== '' && !/^no\b/.test(v)) return true
        break
      case 'x-autoreply':
      case 'x-autorespond':
        if (v !== '' && v !== 'no') return true
        break
      case 'precedence':
        if (v === 'bulk' || v === 'auto_reply' || v === 'list' || v === 'junk') return true
        break
    }
  }
  return false
}
