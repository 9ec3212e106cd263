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
  it("binds every value and key as a parameter and splices none into the SQL, which names only the dataset's own table", () => {
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
    expect(s.text).toContain(`from datasets."${shape.id}" as t where`)
  })

  it('refuses to name a table for a dataset id that is not a UUID', () => {
    const hostile = { ...shape, id: '1" as t; drop table agentry.datasets; --' }
    expect(() => countRowsStatement(hostile, { filters: [] })).toThrow('is not a UUID')
  })

  it('compares a declared column in its SQL type on the column itself, which its B-tree index is built on', () => {
    const s = selectRowsStatement(
      shape,
      {
        select: null,
        filters: [condition('score', 'gte', '50')],
        order: [{ field: { name: 'score', path: [] }, direction: 'desc', nulls: null }],
      },
      { limit: 50, offset: 0 },
    )
    expect(s.text).toMatch(/\(t\."score" >= \$\d+::text::double precision\)/)
    expect(s.text).toMatch(/order by t\."score" desc, t\._seq/)
    const positive = countRowsStatement(shape, { filters: [condition('status', 'eq', 'won')] })
    expect(positive.text).toMatch(/where \(t\."status" = \$1::text\)$/)
    const negated = countRowsStatement(shape, { filters: [condition('status', 'eq', 'won', true)] })
    expect(negated.text).toMatch(/where not \(t\."status" = \$1::text\)$/)
  })

  it('reads an undeclared key of an open dataset in _extras, with containment there for cs', () => {
    const eq = countRowsStatement(shape, { filters: [condition('region', 'eq', 'eu')] })
    expect(eq.text).toMatch(/\(\(t\._extras ->> \$1::text\) = \$2::text\)/)
    expect(eq.params).toEqual(['region', 'eu'])
    const cs = countRowsStatement(shape, { filters: [condition('tags', 'cs', '{a}')] })
    expect(cs.text).toContain('(t._extras @> $1::text::jsonb)')
    expect(cs.params).toEqual(['{"tags":["a"]}'])
  })

  it('gives a LIKE with a fixed prefix the bytewise range of text starting with it, which a B-tree serves', () => {
    const s = countRowsStatement(shape, { filters: [condition('status', 'like', 'wo*')] })
    expect(s.text).toContain(
      '((t."status" collate "C") >= $2::text and (t."status" collate "C") < $3::text and (t."status" like $1::text))',
    )
    expect(s.params).toEqual(['wo%', 'wo', 'wp'])
    const escaped = countRowsStatement(shape, { filters: [condition('status', 'like', 'a\\%b*')] })
    expect(escaped.params.slice(1)).toEqual(['a%b', 'a%c'])
    const open = countRowsStatement(shape, { filters: [condition('status', 'like', '*won')] })
    expect(open.text).not.toContain('collate')
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
