import { describe, expect, it } from 'vitest'
import type { Filter } from '../../../functions/_core/postgrest/ast.ts'
import type { RowShape } from '../../../functions/_core/postgrest/fields.ts'
import { countRowsStatement, selectRowsStatement } from '../../../functions/_core/postgrest/statements.ts'
import { canonicalTimestamp } from '../../../functions/_core/postgrest/values.ts'

const shape: RowShape = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'Leads',
  open: true,
  columns: [
    { name: 'status', type: 'text' },
    { name: 'score', type: 'number' },
  ],
}

const condition = (name: string, op: string, value: string, negated = false): Filter =>
  ({ type: 'condition', negated, field: { name, path: [] }, operation: { op, value } }) as Filter

describe('the compiler', () => {
  it('binds every value, key and dataset id as a parameter and splices none into the SQL', () => {
    const hostile = `x'); drop table agentry.datasets; --`
    const s = selectRowsStatement(
      shape,
      {
        select: [{ type: 'field', field: { name: hostile, path: [{ key: hostile, text: true }] }, alias: null, cast: null, key: hostile }],
        filters: [condition(hostile, 'eq', hostile), condition('status', 'like', hostile)],
        order: [{ field: { name: hostile, path: [] }, direction: 'desc', nulls: 'last' }],
        search: hostile,
      },
      { limit: 10, offset: 0 },
    )
    expect(s.text).not.toContain('drop table')
    expect(s.text).not.toContain("x'")
    expect(s.params.filter((p) => p?.includes('drop table')).length).toBeGreaterThanOrEqual(5)
    expect(s.params).toContain(shape.id)
  })

  it('writes a declared column exactly as its index is built, so the index serves ranges and order', () => {
    const s = selectRowsStatement(
      shape,
      {
        select: null,
        filters: [condition('score', 'gte', '50')],
        order: [{ field: { name: 'score', path: [] }, direction: 'desc', nulls: null }],
      },
      { limit: 50, offset: 0 },
    )
    // agentry.dataset_column_expression('score', 'number') is ((data ->> 'score')::numeric)
    expect(s.text).toMatch(/\(\(data ->> \$\d+::text\)::numeric\) >= \$\d+::text::numeric/)
    expect(s.text).toMatch(/order by \(\(data ->> \$\d+::text\)::numeric\) desc, seq/)
  })

  it('uses the GIN-served containment form for eq only where a NULL and a false mean the same', () => {
    const positive = countRowsStatement(shape, { filters: [condition('status', 'eq', 'won')] })
    expect(positive.text).toContain('data @> ')
    expect(positive.params).toContain('{"status":"won"}')
    const negated = countRowsStatement(shape, { filters: [condition('status', 'eq', 'won', true)] })
    expect(negated.text).not.toContain('data @> ')
    expect(negated.text).toMatch(/not \(\(data ->> \$\d+::text\) = \$\d+::text\)/)
  })

  it('refuses a LIKE pattern ending in its escape character before PostgreSQL meets it on some row', () => {
    const like = (value: string) => () => countRowsStatement(shape, { filters: [condition('status', 'like', value)] })
    for (const pattern of ['abc\\', '\\', 'a\\\\\\']) {
      expect(like(pattern), pattern).toThrow('Invalid escape in the LIKE pattern of the filter on "status"')
    }
    for (const pattern of ['abc\\\\', 'a\\*', '\\%x', '']) expect(like(pattern), pattern).not.toThrow()
  })

  it('notes which parts may be refused on their input, so that an error can name the one at fault', () => {
    const s = selectRowsStatement(
      shape,
      {
        select: [{ type: 'field', field: { name: 'status', path: [] }, alias: null, cast: 'int', key: 'status' }],
        filters: [condition('status', 'match', 'a+'), condition('score', 'gt', '1'), condition('status', 'eq', 'x')],
        order: [],
      },
      { limit: 10, offset: 0 },
    )
    expect(s.suspects).toEqual([
      { fault: 'cast', where: 'the select of "status"::int' },
      { fault: 'regex', where: 'the filter on "status"' },
      { fault: 'literal', where: 'the filter on "score"' },
    ])
  })

  it('finds no cast under a name every JavaScript object has', () => {
    for (const cast of ['constructor', '__proto__', 'tostring', 'valueof', 'hasownproperty']) {
      const select = [{ type: 'field' as const, field: { name: 'score', path: [] }, alias: null, cast, key: 'score' }]
      expect(() => selectRowsStatement(shape, { select, filters: [], order: [] }, { limit: 1, offset: 0 }), cast).toThrow(
        `Unknown cast "::${cast}" on "score"`,
      )
    }
  })
})

describe('timestamps', () => {
  it('are read in ISO 8601 forms and written in one canonical UTC form that sorts as text', () => {
    expect(canonicalTimestamp('2026-11-23')).toBe('2026-11-23T00:00:00.000Z')
    expect(canonicalTimestamp('2026-11-23T10:00')).toBe('2026-11-23T10:00:00.000Z')
    expect(canonicalTimestamp('2026-11-23 10:00:00.5+01:00')).toBe('2026-11-23T09:00:00.500Z')
    expect(canonicalTimestamp('2026-11-23T00:30:00-0130')).toBe('2026-11-23T02:00:00.000Z')
    expect(canonicalTimestamp('2026-11-23T10:00:00.123456Z', 6)).toBe('2026-11-23T10:00:00.123456Z')
    expect(canonicalTimestamp('0099-01-01')).toBe('0099-01-01T00:00:00.000Z')
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-23T24:00', 'yesterday', '1700000000', '2026-11-23T10:00+16:00']) {
      expect(canonicalTimestamp(bad), bad).toBeNull()
    }
  })
})
