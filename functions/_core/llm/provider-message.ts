// What a client may read of a model provider's failure. Providers put URLs, account and organisation ids,
// fragments of keys and whole HTML pages in their error bodies, and our client is not their customer: it gets
// the provider's own one-line message, cleaned and short; the operator gets everything in the log.

const maxLength = 120
const controlCharacters = /[\p{Cc}\p{Cf}]+/gu
const links = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi
const bearer = /\bbearer\s+\S+/gi
// Key-shaped words, whatever their vendor: sk-…/pk-…/rk-… (masked or not), and any run of 24 or more letters
// and digits mixing both (keys, tokens, account and request ids).
const keyPrefixed = /\b(?:sk|pk|rk)[-_][\w*.-]{3,}\b/gi
const opaqueTokens = /\b(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]{24,}\b/gi

/** The provider's message as a client may see it: no control characters, links or key-like words, ≤ 120 chars. */
export function clientSafeMessage(raw: string, apiKey: string | null = null): string {
  let text = raw
  if (apiKey) text = text.replaceAll(apiKey, '[redacted]')
  text = text
    .replace(controlCharacters, ' ')
    .replace(links, '[link]')
    .replace(bearer, 'Bearer [redacted]')
    .replace(keyPrefixed, '[redacted]')
    .replace(opaqueTokens, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim()
  if (!text) return 'no message'
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text
}

/** The one line a provider's error body is reduced to: its JSON `error.message` (or `message`), or nothing. */
export function messageInBody(body: string): string | null {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown }
    if (typeof json.error === 'string') return json.error
    if (typeof json.error?.message === 'string') return json.error.message
    if (typeof json.message === 'string') return json.message
  } catch {
    // not JSON: an HTML page or a proxy's text, which is only logged
  }
  return null
}
