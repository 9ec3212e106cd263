// Literal values as datasets understand them: numbers in JSON's grammar, and timestamps normalised to one
// canonical UTC form, the one rows are written and answered in (to the millisecond, as a timestamptz column holds them).

/** A dataset column's type. */
export type ColumnType = 'text' | 'number' | 'boolean' | 'timestamp' | 'json'
export const columnTypes: readonly ColumnType[] = ['text', 'number', 'boolean', 'timestamp', 'json']

const jsonNumber = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/
const looseNumber = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/

/** True for numbers as JSON writes them (`-1.5e3`), which may be spliced into JSON text unchanged. */
export function isJsonNumber(text: string): boolean {
  return jsonNumber.test(text)
}

/** True for anything PostgreSQL reads as a numeric (`+1`, `.5`, `1.`), finite. */
export function isNumberLiteral(text: string): boolean {
  return looseNumber.test(text.trim()) && Number.isFinite(Number(text))
}

const isoTimestamp = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * Reads an ISO 8601 / RFC 3339 date or date-time (`2026-11-23`, `2026-11-23T10:00`, `…T10:00:00.5+01:00`);
 * without an offset it is UTC. Returns the canonical form `YYYY-MM-DDTHH:MM:SS.sssZ` (with `digits`
 * fractional digits: 3 for stored values, 6 to compare with PostgreSQL's own timestamps), or null when the
 * text is not such a timestamp or names a day or time that does not exist.
 */
export function canonicalTimestamp(text: string, digits: 3 | 6 = 3): string | null {
  const m = isoTimestamp.exec(text.trim())
  if (!m) return null
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null
  const utc = new Date(0)
  utc.setUTCFullYear(year, month - 1, day)
  utc.setUTCHours(hour, minute, second, 0)
  if (utc.getUTCDate() !== day || utc.getUTCMonth() !== month - 1) return null
  let offsetMinutes = 0
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1
    const hhmm = zone.slice(1).replace(':', '')
    const oh = Number(hhmm.slice(0, 2))
    const om = Number(hhmm.slice(2) || '0')
    if (oh > 15 || om > 59) return null
    offsetMinutes = sign * (oh * 60 + om)
  }
  const iso = new Date(utc.getTime() - offsetMinutes * 60_000).toISOString()
  if (!/^\d{4}-/.test(iso)) return null
  // Offsets are whole minutes, so the fraction of a second is the one that was sent.
  return `${iso.slice(0, 19)}.${fraction.padEnd(digits, '0').slice(0, digits)}Z`
}

/** True for text PostgreSQL cannot store: a NUL character, or half of a surrogate pair. */
export function hasUnstorableText(text: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters looked for
  return /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)
}

/** A PostgreSQL array literal of text elements, every element quoted, for a `$n::text[]` parameter. */
export function pgTextArray(values: readonly (string | null)[]): string {
  return `{${values.map((v) => (v === null ? 'NULL' : `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)).join(',')}}`
}
