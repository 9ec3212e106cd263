import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../functions/_core/errors.ts'
import type { RowShape } from '../../../functions/_core/postgrest/fields.ts'
import { prepareNewRows, preparePatch } from '../../../functions/_core/postgrest/row-values.ts'

const shape: RowShape = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Leads',
  columns: [
    { name: 'email', type: 'text' },
    { name: 'score', type: 'number' },
  ],
  open: true,
} as RowShape

/** The refusal `write` throws: its message and the fields it names. */
function refusal(write: () => unknown): { message: string; fields: unknown } {
  try {
    write()
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError)
    const e = error as ApiError
    expect(e.code).toBe('validation_failed')
    return { message: e.message, fields: e.details?.fields }
  }
  throw new Error('the write was accepted')
}

const nested = (depth: number): unknown => (depth === 0 ? 'deep' : { a: nested(depth - 1) })

describe('rows checked before they are written', () => {
  it('refuses a row that is not an object, naming the body or its place in the list', () => {
    expect(refusal(() => prepareNewRows(shape, 'hello'))).toEqual({
      message: 'Invalid request: "(body)": a row must be a JSON object.',
      fields: [{ field: '(body)', message: 'a row must be a JSON object' }],
    })
    expect(refusal(() => prepareNewRows(shape, [{ email: 'a@example.com' }, 7])).message).toBe(
      'Invalid request: row 1: a row must be a JSON object.',
    )
  })

  it('keeps null in a typed column, and describes what a column got instead of its type', () => {
    expect(prepareNewRows(shape, { email: null, score: null })).toEqual([{ data: { email: null, score: null } }])
    const { message, fields } = refusal(() => prepareNewRows(shape, [{ email: [1], score: 'x'.repeat(41) }, { email: { at: 1 } }]))
    expect(message).toBe('Invalid request: row 0, column "email": expected text, got an array (and 2 more problems; see fields).')
    expect(fields).toEqual([
      { field: '0.email', message: 'expected text, got an array' },
      { field: '0.score', message: `expected a number, got the text "${'x'.repeat(40)}…"` },
      { field: '1.email', message: 'expected text, got an object' },
    ])
    expect(refusal(() => prepareNewRows(shape, { email: true, score: 'high' })).message).toBe(
      'Invalid request: "email": expected text, got boolean true (and 1 more problem; see fields).',
    )
  })

  it('refuses an empty key, and values PostgreSQL cannot store however deep they are', () => {
    expect(refusal(() => prepareNewRows(shape, { '': 1 })).fields).toEqual([
      { field: '', message: 'a key must be non-empty text without NUL characters or unpaired surrogates' },
    ])
    expect(refusal(() => prepareNewRows(shape, { notes: nested(65) })).fields).toEqual([
      { field: 'notes', message: 'nested deeper than 64 levels' },
    ])
    expect(prepareNewRows(shape, { notes: nested(64) })).toEqual([{ data: { notes: nested(64) } }])
    expect(refusal(() => prepareNewRows(shape, { notes: [{ 'a\u0000b': 1 }] })).fields).toEqual([
      { field: 'notes', message: 'a key contains a NUL character or an unpaired surrogate, which cannot be stored' },
    ])
    expect(refusal(() => prepareNewRows(shape, { notes: [['ok', '\ud800']] })).fields).toEqual([
      { field: 'notes', message: 'text contains a NUL character or an unpaired surrogate, which cannot be stored' },
    ])
  })

  it('takes a patch as one object only, and never a new id', () => {
    expect(refusal(() => preparePatch(shape, [{ score: 1 }]))).toEqual({
      message: 'Invalid request: send the values to change as one JSON object.',
      fields: [{ field: '(body)', message: 'expected a JSON object' }],
    })
    expect(refusal(() => preparePatch(shape, { id: shape.id, score: 2 }))).toEqual({
      message: `Invalid request: "id": a row's id cannot change.`,
      fields: [{ field: 'id', message: "a row's id cannot change" }],
    })
    expect(preparePatch(shape, { score: 2 })).toEqual({ score: 2 })
  })
})
