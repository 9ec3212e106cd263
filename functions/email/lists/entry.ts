// A list entry is an address (ann@example.com) or a domain (example.com, or @example.com as people often
// write it); a domain covers its subdomains, so blocking example.com blocks mail.example.com too.

const domainShape = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/
const localShape = /^[^\s@<>()[\]\\,;:"]{1,64}$/

/** The entry as stored (lower case, no leading @), or null when it is neither an address nor a domain. */
export function normalEntry(input: string): string | null {
  const value = input.trim().toLowerCase().replace(/^@/, '')
  if (value.length === 0 || value.length > 320) return null
  const at = value.lastIndexOf('@')
  if (at < 0) return domainShape.test(value) && value.length <= 253 ? value : null
  const local = value.slice(0, at)
  const domain = value.slice(at + 1)
  return localShape.test(local) && domainShape.test(domain) ? value : null
}

/** Every entry that would match the address: itself, its domain and each parent domain with a dot left in it. */
export function entriesMatching(address: string): string[] {
  const value = address.trim().toLowerCase()
  const at = value.lastIndexOf('@')
  if (at < 0) return []
  const labels = value.slice(at + 1).split('.')
  const domains = labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'))
  return [value, ...domains]
}

/** The domain of an address, lower-cased ('' for none). */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at < 0 ? '' : address.slice(at + 1).toLowerCase()
}
