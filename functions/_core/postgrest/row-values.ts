// Row writes checked against the dataset's columns before they reach SQL: each value must fit its declared
// type (timestamps are stored in canonical form), a closed dataset takes no undeclared keys, and nothing
// PostgreSQL cannot store gets through. One error names the row and the column.
import { ApiError } from '../errors.ts'
import type { RowShape } from './fields.ts'
import type { NewRow } from './statements.ts'
import { isUuid } from '../uuid.ts'
import { canonicalTimestamp, hasUnstorableText, type ColumnType } from './values.ts'

const maxDepth = 64
const readOnlyKeys = new Set(['created_at', 'updated_at'])

interface FieldError {
  field: string
  message: string
}

/**
 * The rows to insert, checked: `id` (optional, a UUID) is taken out of each object, the rest is its data.
 * `rows` is one object or an array of them; errors name rows by their index in the array.
 */
export function prepareNewRows(shape: RowShape, body: unknown): NewRow[] {
  const list = Array.isArray(body) ? body : [body]
  const errors: FieldError[] = []
  const rows = list.map((item, index) => {
    const where = Array.isArray(body) ? `${index}` : null
    if (!isPlainObject(item)) {
      errors.push({ field: where ?? '(body)', message: 'a row must be a JSON object' })
      return { data: {} }
    }
    const { id, ...data } = item
    if (id !== undefined && (typeof id !== 'string' || !isUuid(id))) {
      errors.push({ field: join(where, 'id'), message: 'id must be a UUID (or left out for the server to assign one)' })
    }
    return { ...(typeof id === 'string' ? { id: id.toLowerCase() } : {}), data: checkValues(shape, data, where, errors) }
  })
  throwIfAny(errors, Array.isArray(body))
  return rows
}

/** A partial row to merge into stored rows: only the keys given change; `id` cannot. */
export function preparePatch(shape: RowShape, body: unknown): Record<string, unknown> {
  const errors: FieldError[] = []
  if (!isPlainObject(body))
    throw new ApiError('validation_failed', 'Invalid request: send the values to change as one JSON object.', {
      fields: [{ field: '(body)', message: 'expected a JSON object' }],
    })
  const { id, ...data } = body
  if (id !== undefined) errors.push({ field: 'id', message: "a row's id cannot change" })
  const patch = checkValues(shape, data, null, errors)
  throwIfAny(errors, false)
  return patch
}

function checkValues(shape: RowShape, data: Record<string, unknown>, where: string | null, errors: FieldError[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(data)) {
    const field = join(where, key)
    if (readOnlyKeys.has(key)) {
      errors.push({ field, message: `${key} is set by the server; leave it out` })
      continue
    }
    if (key === '' || hasUnstorableText(key)) {
      errors.push({ field, message: 'a key must be non-empty text without NUL characters or unpaired surrogates' })
      continue
    }
    const column = shape.columns.find((c) => c.name === key)
    if (!column && !shape.open) {
      errors.push({ field, message: `dataset "${shape.name}" has no column "${key}" and does not accept undeclared keys` })
      continue
    }
    const problem = unstorable(value, 0)
    if (problem) {
      errors.push({ field, message: problem })
      continue
    }
    const checked = column ? fitToType(column.type, value) : { value }
    if ('error' in checked) errors.push({ field, message: checked.error })
    else out[key] = checked.value
  }
  return out
}

function fitToType(type: ColumnType, value: unknown): { value: unknown } | { error: string } {
  if (value === null) return { value }
  switch (type) {
    case 'text':
      return typeof value === 'string' ? { value } : { error: `expected text, got ${describe(value)}` }
    case 'number':
      return typeof value === 'number' ? { value } : { error: `expected a number, got ${describe(value)}` }
    case 'boolean':
      return typeof value === 'boolean' ? { value } : { error: `expected true or false, got ${describe(value)}` }
    case 'timestamp': {
      const canonical = typeof value === 'string' ? canonicalTimestamp(value) : null
      return canonical
        ? { value: canonical }
        : { error: `expected an ISO 8601 timestamp such as "2026-11-23T10:00:00Z", got ${describe(value)}` }
    }
    case 'json':
      return { value }
  }
}

/** Why PostgreSQL could not store this JSON value, if it could not. */
function unstorable(value: unknown, depth: number): string | null {
  if (depth > maxDepth) return `nested deeper than ${maxDepth} levels`
  if (typeof value === 'string')
    return hasUnstorableText(value) ? 'text contains a NUL character or an unpaired surrogate, which cannot be stored' : null
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = unstorable(item, depth + 1)
      if (problem) return problem
    }
    return null
  }
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (hasUnstorableText(k)) return 'a key contains a NUL character or an unpaired surrogate, which cannot be stored'
      const problem = unstorable(v, depth + 1)
      if (problem) return problem
    }
  }
  return null
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the text ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const join = (where: string | null, key: string) => (where === null ? key : `${where}.${key}`)

function throwIfAny(errors: FieldError[], many: boolean) {
  if (errors.length === 0) return
  const first = errors[0]
  const [row, ...rest] = first.field.split('.')
  const place = many && /^\d+$/.test(row) ? `row ${row}${rest.length ? `, column "${rest.join('.')}"` : ''}` : `"${first.field}"`
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''}; see fields)` : ''
  throw new ApiError('validation_failed', `Invalid request: ${place}: ${first.message}${more}.`, { fields: errors.slice(0, 100) })
}
