// Literals: a value as sent in a query, checked and converted to what its field compares with. A literal the
// field cannot hold is a 400 here, before any SQL runs.
import type { ArrayElement } from './ast.ts'
import { clip } from '../clip.ts'
import { isUuid } from '../uuid.ts'
import { invalid, sqlTypeOfColumn, type Kind } from './fields.ts'
import { parseArrayLiteral } from './parse.ts'
import { canonicalTimestamp, isJsonNumber, isNumberLiteral } from './values.ts'

export const sqlTypeOfKind: Record<Kind, string> = {
  uuid: 'uuid',
  timestamptz: 'timestamptz',
  text: 'text',
  number: sqlTypeOfColumn.number,
  boolean: 'boolean',
  timestamp: 'timestamptz',
  dynamic: 'text',
  json: 'jsonb',
}

/** A literal converted to what `kind` compares with; a literal the column cannot hold is a 400. */
export function literalValue(kind: Kind, text: string, label: string): string {
  switch (kind) {
    case 'uuid':
      if (!isUuid(text)) throw invalid(`"${label}" is a UUID: "${clip(text, 80)}" is not one.`)
      return text
    case 'timestamptz':
    case 'timestamp': {
      const canonical = canonicalTimestamp(text, kind === 'timestamptz' ? 6 : 3)
      if (!canonical) throw invalid(`"${label}" is a timestamp: "${clip(text, 80)}" is not an ISO 8601 date or date-time.`)
      return canonical
    }
    case 'number':
      if (!isNumberLiteral(text)) throw invalid(`"${label}" is a number column: "${clip(text, 80)}" is not a number.`)
      return text.trim()
    case 'boolean':
      if (!/^(true|false)$/i.test(text)) throw invalid(`"${label}" is a boolean column: use true or false, not "${clip(text, 80)}".`)
      return text.toLowerCase()
    case 'json':
      return jsonLiteral(text)
    default:
      return text
  }
}

/** JSON as sent when it parses; otherwise the text as a JSON string. */
function jsonLiteral(text: string): string {
  try {
    JSON.parse(text)
    return text
  } catch {
    return JSON.stringify(text)
  }
}

/** Elements of an array literal `{a,"b",3,NULL}` (or a JSON array) as JSON values. */
export function jsonElements(value: string, label: string, op: string): unknown[] {
  const trimmed = value.trim()
  if (trimmed.startsWith('[')) {
    const parsed = tryJson(trimmed)
    if (Array.isArray(parsed)) return parsed
  }
  if (!trimmed.startsWith('{')) throw invalid(`${op} on "${label}" takes an array such as {a,b} or ["a","b"], not "${clip(value, 80)}".`)
  return parseArrayLiteral(trimmed).map(elementToJson)
}

function elementToJson(e: ArrayElement): unknown {
  if (e.text === null) return null
  if (e.quoted) return e.text
  if (isJsonNumber(e.text)) return Number(e.text)
  if (e.text === 'true' || e.text === 'false') return e.text === 'true'
  return e.text
}

/** The JSON a `cs`/`cd` literal means: JSON as sent, or an array literal `{a,b}` as a JSON array. */
export function containmentJson(value: string, label: string, op: string): string {
  const trimmed = value.trim()
  if (trimmed === '{}') return '[]'
  const parsed = tryJson(trimmed)
  if (parsed !== undefined) return trimmed
  if (trimmed.startsWith('{')) return JSON.stringify(jsonElements(trimmed, label, op))
  return JSON.stringify(value)
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
