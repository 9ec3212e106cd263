import { describe, expect, it } from 'vitest'
import { ApiError } from '../../../functions/_core/errors.ts'
import type { ArrayElement, Condition, Field, Filter, LogicTree, Operation, PathStep } from '../../../functions/_core/postgrest/ast.ts'
import { parseArrayLiteral, parseColumnList, parseField, parseQueryString, queryLimits } from '../../../functions/_core/postgrest/parse.ts'

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** The only filter of a query string that holds exactly one. */
function filterOf(query: string): Filter {
  const { filters } = parseQueryString(query)
  expect(filters).toHaveLength(1)
  return filters[0]
}

function conditionOf(query: string): Condition {
  const filter = filterOf(query)
  expect(filter.type).toBe('condition')
  return filter as Condition
}

function treeOf(query: string): LogicTree {
  const filter = filterOf(query)
  expect(filter.type).not.toBe('condition')
  return filter as LogicTree
}

function operationOf(filterValue: string): Operation {
  return conditionOf(`col=${encodeURIComponent(filterValue)}`).operation
}

/** The invalid_query message `run` throws; fails the test when it throws nothing or something else. */
function errorOf(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).code).toBe('invalid_query')
    expect((error as ApiError).status).toBe(400)
    return (error as ApiError).message
  }
  throw new Error('expected an invalid_query error, but parsing succeeded')
}

const queryError = (query: string) => errorOf(() => parseQueryString(query))

const field = (name: string, ...path: PathStep[]): Field => ({ name, path })
const key = (k: string | number): PathStep => ({ key: k, text: false })
const textKey = (k: string | number): PathStep => ({ key: k, text: true })
const condition = (name: string, operation: Operation, negated = false): Condition => ({
  type: 'condition',
  field: field(name),
  negated,
  operation,
})
const eq = (name: string, value: string) => condition(name, { op: 'eq', value })
const element = (text: string | null, quoted = false): ArrayElement => ({ text, quoted })

// ---------------------------------------------------------------------------------------------------------------

describe('the query string', () => {
  it('parses an empty query string into an empty query', () => {
    expect(parseQueryString('')).toEqual({ select: null, filters: [], order: [], limit: null, offset: null, params: {} })
  })

  it('keeps repeated filters on the same key, in order', () => {
    expect(parseQueryString('id=gt.2&name=eq.x&id=lt.5').filters).toEqual([
      condition('id', { op: 'gt', value: '2' }),
      eq('name', 'x'),
      condition('id', { op: 'lt', value: '5' }),
    ])
  })

  it('keeps filters and trees in the order they were given', () => {
    const { filters } = parseQueryString('a=eq.1&or=(b.eq.2)&c=eq.3')
    expect(filters.map((f) => f.type)).toEqual(['condition', 'or', 'condition'])
  })

  it('drops a parameter without "=" and ignores an empty name', () => {
    expect(parseQueryString('foo&=x&&a=eq.1&').filters).toEqual([eq('a', '1')])
  })

  it('splits only on the first "=" so values may contain more', () => {
    expect(conditionOf('a=eq.x=y').operation).toEqual({ op: 'eq', value: 'x=y' })
  })

  it('uses the first select and ignores later ones without parsing them', () => {
    expect(parseQueryString('select=a&select=(((').select).toEqual([
      { type: 'field', field: field('a'), alias: null, cast: null, key: 'a' },
    ])
  })

  it('uses the first order', () => {
    expect(parseQueryString('order=a&order=b.desc').order).toEqual([{ field: field('a'), direction: null, nulls: null }])
  })

  it('returns the surface parameters raw, first occurrence winning', () => {
    const query = parseQueryString('search=hello+world&distinct=meta->>source&search=second', {
      params: ['search', 'distinct'],
    })
    expect(query.params).toEqual({ search: 'hello world', distinct: 'meta->>source' })
    expect(query.filters).toEqual([])
  })

  it('treats a parameter the surface does not reserve as a filter', () => {
    expect(queryError('columns=a,b')).toContain('failed to parse filter (a,b)')
  })

  it('lets a quoted key name a field called like a reserved parameter', () => {
    expect(conditionOf('"order"=eq.1').field).toEqual(field('order'))
    expect(conditionOf('%22or%22=eq.1').field).toEqual(field('or'))
  })
})

describe('decoding', () => {
  it('decodes + as a space and %2B as a plus', () => {
    expect(conditionOf('a=eq.x+y%2Bz').operation).toEqual({ op: 'eq', value: 'x y+z' })
  })

  it('decodes + in keys too', () => {
    expect(conditionOf('my+col=eq.1').field).toEqual(field('my col'))
  })

  it('percent-decodes exactly once, so %2522 stays %22', () => {
    expect(conditionOf('a=eq.%2522').operation).toEqual({ op: 'eq', value: '%22' })
  })

  it('interprets syntax after decoding, so %2C is a comma and not an escape', () => {
    expect(conditionOf('a=in.(x%2Cy)').operation).toEqual({ op: 'in', values: ['x', 'y'] })
  })

  it('decodes UTF-8 in keys and values', () => {
    expect(conditionOf('%C3%A9t%C3%A9=eq.%E2%9C%93').operation).toEqual({ op: 'eq', value: '✓' })
    expect(conditionOf('%C3%A9t%C3%A9=eq.1').field).toEqual(field('été'))
  })

  it('rejects a NUL character in a value', () => {
    expect(queryError('a=eq.x%00y')).toBe('the query parameter "a" contains a NUL character')
  })

  it('rejects a NUL character in a key', () => {
    expect(queryError('a%00=eq.1')).toContain('contains a NUL character')
  })

  it('rejects a malformed percent escape naming the parameter', () => {
    expect(queryError('name=eq.100%')).toBe('the query parameter "name" has a malformed percent-escape or is not valid UTF-8')
    expect(queryError('name=eq.%zz')).toContain('"name"')
  })

  it('rejects invalid UTF-8', () => {
    expect(queryError('a=eq.%C3%28')).toContain('not valid UTF-8')
    expect(queryError('a=eq.%FF')).toContain('not valid UTF-8')
  })

  it('rejects a malformed escape in a key naming the raw key', () => {
    expect(queryError('ab%G1=eq.1')).toContain('"ab%G1"')
  })
})

describe('filters', () => {
  it('parses a simple filter', () => {
    expect(conditionOf('age=gt.18')).toEqual(condition('age', { op: 'gt', value: '18' }))
  })

  it('takes the value verbatim after the first dot, dots and quotes included', () => {
    expect(operationOf('eq.1.5')).toEqual({ op: 'eq', value: '1.5' })
    expect(operationOf('imatch..*YY.*')).toEqual({ op: 'imatch', value: '.*YY.*' })
    expect(operationOf('eq."x"')).toEqual({ op: 'eq', value: '"x"' })
    expect(operationOf('eq.a,b)c(')).toEqual({ op: 'eq', value: 'a,b)c(' })
  })

  it('accepts an empty value', () => {
    expect(operationOf('eq.')).toEqual({ op: 'eq', value: '' })
  })

  it('negates with not.', () => {
    expect(conditionOf('a=not.eq.5')).toEqual(condition('a', { op: 'eq', value: '5' }, true))
  })

  it('rejects not. twice', () => {
    expect(queryError('a=not.not.eq.1')).toBe(
      'failed to parse filter (not.not.eq.1) at column 5: "not." may appear only once before the operator',
    )
  })

  it('rejects an empty filter value', () => {
    expect(queryError('a=')).toContain('failed to parse filter () at column 1: unexpected end of input, expected "not." or an operator')
  })

  it('rejects an operator without its dot', () => {
    expect(queryError('a=eq')).toBe('failed to parse filter (eq) at column 3: unexpected end of input, expected "." after "eq"')
    expect(queryError('a=gt')).toContain('expected "." after "gt"')
    expect(queryError('a=not')).toContain('expected "." after "not"')
    expect(queryError('a=not.in')).toContain('at column 7')
  })

  it('parses filters on a quoted key containing a dot', () => {
    expect(conditionOf('"information.cpe"=like.*MS*')).toEqual(condition('information.cpe', { op: 'like', value: '*MS*' }))
  })

  it('parses filters on a key with spaces, dashes, digits, $ and Unicode letters', () => {
    expect(conditionOf('Just%20A%20Server%20Model=eq.1').field).toEqual(field('Just A Server Model'))
    expect(conditionOf('field-with_sep=eq.1').field).toEqual(field('field-with_sep'))
    expect(conditionOf('a$num$=eq.1').field).toEqual(field('a$num$'))
    expect(conditionOf('%D0%B8%D0%BC%D1%8F2=eq.1').field).toEqual(field('имя2'))
    expect(conditionOf('%F0%9D%92%9C=eq.1').field).toEqual(field('𝒜'))
  })

  it('trims the spaces around an unquoted key', () => {
    expect(conditionOf('%20%20name%20=eq.1').field).toEqual(field('name'))
  })

  it('rejects a dotted key as embedding and says how to quote it', () => {
    expect(queryError('child.col=eq.1')).toBe(
      'failed to parse field (child.col) at column 6: resource embedding is not supported on datasets; a key containing a dot must be ' +
        'double-quoted, e.g. "a.b"=eq.1',
    )
  })

  it('rejects embedded order, limit and logic keys as embedding', () => {
    for (const key of ['child.order', 'child.limit', 'child.or', 'child.not.and', 'not.foo']) {
      expect(queryError(`${key}=(a.eq.1)`)).toContain('resource embedding is not supported')
    }
  })

  it('rejects a cast in a filter key', () => {
    expect(queryError('a::text=eq.1')).toBe('failed to parse field (a::text) at column 2: casts are not allowed in filters')
  })

  it('rejects a key that is not a field', () => {
    expect(queryError('*=eq.1')).toContain('failed to parse field (*) at column 1: unexpected "*", expected a field name')
    expect(queryError('a*b=eq.1')).toContain('at column 2: unexpected "*"')
    expect(queryError('a-=eq.1')).toContain('at column 3: unexpected end of input, expected a letter, digit')
    expect(queryError('%20=eq.1')).toContain('failed to parse field ( ) at column 2: unexpected end of input, expected a field name')
  })
})

describe('operators', () => {
  const valueOperators = [
    'eq',
    'neq',
    'gt',
    'gte',
    'lt',
    'lte',
    'like',
    'ilike',
    'match',
    'imatch',
    'isdistinct',
    'cs',
    'cd',
    'ov',
    'sl',
    'sr',
    'nxr',
    'nxl',
    'adj',
  ] as const

  for (const op of valueOperators) {
    it(`parses ${op} with its value`, () => {
      expect(operationOf(`${op}.some.value`)).toEqual({ op, value: 'some.value' })
      expect(conditionOf(`a=not.${op}.1`).negated).toBe(true)
    })
  }

  it('parses containment and range values as raw text', () => {
    expect(operationOf('cs.{1,2}')).toEqual({ op: 'cs', value: '{1,2}' })
    expect(operationOf('cd.{"a":1}')).toEqual({ op: 'cd', value: '{"a":1}' })
    expect(operationOf('ov.[2017-01-01,2017-06-30]')).toEqual({ op: 'ov', value: '[2017-01-01,2017-06-30]' })
    expect(operationOf('adj.(1,10)')).toEqual({ op: 'adj', value: '(1,10)' })
  })

  const quantifiable = ['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch'] as const
  for (const op of quantifiable) {
    it(`parses ${op}(any) and ${op}(all) with an array literal`, () => {
      expect(operationOf(`${op}(any).{a,b}`)).toEqual({ op, quantifier: 'any', values: [element('a'), element('b')] })
      expect(operationOf(`${op}(all).{"x,y"}`)).toEqual({ op, quantifier: 'all', values: [element('x,y', true)] })
    })
  }

  it('parses a negated quantified operator', () => {
    expect(conditionOf('last_name=not.like(any).{O*,P*}')).toEqual(
      condition('last_name', { op: 'like', quantifier: 'any', values: [element('O*'), element('P*')] }, true),
    )
  })

  it('rejects a quantifier on an operator that takes none', () => {
    for (const op of ['neq', 'cs', 'isdistinct', 'adj']) {
      expect(queryError(`a=${op}(any).{1}`)).toContain(`"${op}" takes no (any)/(all) modifier`)
    }
  })

  it('rejects an unknown quantifier', () => {
    expect(queryError('a=eq(some).{1}')).toBe(
      'failed to parse filter (eq(some).{1}) at column 3: unexpected "(", expected "(any)" or "(all)"',
    )
  })

  it('rejects a quantified value that is not an array literal', () => {
    expect(queryError('a=eq(any).1,2')).toBe(
      'failed to parse filter (eq(any).1,2) at column 9: unexpected "1", expected an array literal such as {1,2} after "eq(any)."',
    )
    expect(queryError('a=eq(any)')).toContain('expected "." after "eq(any)"')
  })

  it('rejects junk after a quantified array literal', () => {
    expect(queryError('a=eq(any).{1}x')).toBe(
      'failed to parse filter (eq(any).{1}x) at column 12: unexpected "x", expected the end of the filter value',
    )
  })

  it('parses the is values in any case and normalises them to lower case', () => {
    expect(operationOf('is.null')).toEqual({ op: 'is', value: 'null' })
    expect(operationOf('is.NULL')).toEqual({ op: 'is', value: 'null' })
    expect(operationOf('is.NoT_NuLl')).toEqual({ op: 'is', value: 'not_null' })
    expect(operationOf('is.TRUE')).toEqual({ op: 'is', value: 'true' })
    expect(operationOf('is.False')).toEqual({ op: 'is', value: 'false' })
    expect(operationOf('is.unKnown')).toEqual({ op: 'is', value: 'unknown' })
    expect(conditionOf('a=not.is.null').negated).toBe(true)
  })

  it('rejects any other is value, listing the valid ones', () => {
    expect(queryError('a=is.maybe')).toBe(
      'failed to parse filter (is.maybe) at column 4: unexpected "maybe", expected null, not_null, true, false or unknown',
    )
    expect(queryError('a=is.')).toContain('unexpected "", expected null')
    expect(queryError('a=is.nullx')).toContain('unexpected "nullx"')
    expect(queryError('a=is.not-null')).toContain('expected null, not_null')
  })

  it('parses the full-text operators with and without a configuration', () => {
    expect(operationOf('fts.cat & dog')).toEqual({ op: 'fts', config: null, value: 'cat & dog' })
    expect(operationOf('plfts(english).fat cats')).toEqual({ op: 'plfts', config: 'english', value: 'fat cats' })
    expect(operationOf('phfts(my_cfg$ 2).a.b')).toEqual({ op: 'phfts', config: 'my_cfg$ 2', value: 'a.b' })
    expect(operationOf('wfts( french ).amusant')).toEqual({ op: 'wfts', config: 'french', value: 'amusant' })
    expect(conditionOf('a=not.fts.x').negated).toBe(true)
  })

  it('rejects a malformed full-text configuration', () => {
    expect(queryError('a=fts().x')).toBe(
      'failed to parse filter (fts().x) at column 5: unexpected ")", expected a text search configuration such as "english"',
    )
    expect(queryError('a=fts(en-gb).x')).toContain('at column 7: unexpected "-", expected ")" to close the text search configuration')
    expect(queryError('a=fts(english)x')).toContain('expected "." after "fts"')
  })

  it('rejects an unknown operator listing the valid ones', () => {
    expect(queryError('a=xyz.1')).toBe(
      'failed to parse filter (xyz.1) at column 1: unknown operator "xyz"; expected "not." or an operator ' +
        '(eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, isdistinct, is, in, cs, cd, ov, sl, sr, nxr, nxl, ' +
        'adj, fts, plfts, phfts, wfts)',
    )
    expect(queryError('a=not.xyz.1')).toContain('at column 5: unknown operator "xyz"')
  })

  it('accepts lower-case operator names only', () => {
    expect(queryError('a=EQ.1')).toContain('unknown operator "EQ"')
    expect(queryError('a=NOT.eq.1')).toContain('unknown operator "NOT"')
  })

  it('rejects a bare number as an operator, as PostgREST does', () => {
    expect(queryError('a=0')).toContain('failed to parse filter (0) at column 1: unknown operator "0"')
  })
})

describe('in lists', () => {
  it('parses a plain list', () => {
    expect(operationOf('in.(1,2,3)')).toEqual({ op: 'in', values: ['1', '2', '3'] })
  })

  it('parses quoted elements with commas, parentheses, escaped quotes and backslashes', () => {
    expect(operationOf('in.(a,"b,c","d\\"e","f)g","h\\\\i")')).toEqual({ op: 'in', values: ['a', 'b,c', 'd"e', 'f)g', 'h\\i'] })
  })

  it('keeps an empty element after a trailing comma', () => {
    expect(operationOf('in.(a,"b,c","d\\"e",)')).toEqual({ op: 'in', values: ['a', 'b,c', 'd"e', ''] })
    expect(operationOf('in.(,)')).toEqual({ op: 'in', values: ['', ''] })
  })

  it('treats a quote as literal when the closing quote is not followed by "," or ")"', () => {
    expect(operationOf('in.("a"b,c)')).toEqual({ op: 'in', values: ['"a"b', 'c'] })
    expect(operationOf('in.(a"b,c)')).toEqual({ op: 'in', values: ['a"b', 'c'] })
    expect(operationOf('in.("abc)')).toEqual({ op: 'in', values: ['"abc'] })
  })

  it('skips spaces after "(" and keeps all other spaces', () => {
    expect(operationOf('in.( a, b c ,d )')).toEqual({ op: 'in', values: ['a', ' b c ', 'd '] })
  })

  it('treats (), (   ) and ("") as the empty list', () => {
    expect(operationOf('in.()')).toEqual({ op: 'in', values: [] })
    expect(operationOf('in.(   )')).toEqual({ op: 'in', values: [] })
    expect(operationOf('in.("")')).toEqual({ op: 'in', values: [] })
    expect(conditionOf('a=not.in.()')).toEqual(condition('a', { op: 'in', values: [] }, true))
  })

  it('keeps dots and other operators inside elements', () => {
    expect(operationOf('in.(1.5,not.eq.2,*)')).toEqual({ op: 'in', values: ['1.5', 'not.eq.2', '*'] })
  })

  it('rejects a list that does not start with "("', () => {
    expect(queryError('a=in.1,2')).toBe(
      'failed to parse filter (in.1,2) at column 4: unexpected "1", expected "(" to open the list, as in in.(1,2,3)',
    )
  })

  it('rejects an unclosed list', () => {
    expect(queryError('a=in.(1,2')).toBe(
      'failed to parse filter (in.(1,2) at column 8: unexpected end of input, expected "," or ")" to close the list',
    )
  })

  it('rejects anything after the closing parenthesis', () => {
    expect(queryError('a=in.(1,2)x')).toBe(
      'failed to parse filter (in.(1,2)x) at column 9: unexpected "x", expected the end of the filter value',
    )
    expect(queryError('a=in.(1))')).toContain('at column 7: unexpected ")"')
  })

  it('accepts exactly the maximum number of items', () => {
    const items = Array.from({ length: queryLimits.maxListItems }, (_, i) => i).join(',')
    const operation = operationOf(`in.(${items})`)
    expect(operation.op === 'in' && operation.values.length).toBe(1000)
  })

  it('rejects 1001 items naming the limit', () => {
    const items = Array.from({ length: 1001 }, (_, i) => i).join(',')
    expect(queryError(`a=in.(${items})`)).toMatch(/at column 3895: an in list may hold at most 1000 items$/)
  })
})

describe('logic trees', () => {
  it('parses an or of two conditions', () => {
    expect(treeOf('or=(age.lt.18,age.gt.21)')).toEqual({
      type: 'or',
      negated: false,
      children: [condition('age', { op: 'lt', value: '18' }), condition('age', { op: 'gt', value: '21' })],
    })
  })

  it('parses and, not.and and not.or keys', () => {
    expect(treeOf('and=(a.eq.1)')).toMatchObject({ type: 'and', negated: false })
    expect(treeOf('not.and=(a.gte.0,a.lte.100)')).toMatchObject({ type: 'and', negated: true })
    expect(treeOf('not.or=(a.eq.1)')).toMatchObject({ type: 'or', negated: true })
  })

  it('parses a nested not.and inside or', () => {
    expect(treeOf('or=(age.eq.14,not.and(age.gte.11,age.lte.17))')).toEqual({
      type: 'or',
      negated: false,
      children: [
        condition('age', { op: 'eq', value: '14' }),
        {
          type: 'and',
          negated: true,
          children: [condition('age', { op: 'gte', value: '11' }), condition('age', { op: 'lte', value: '17' })],
        },
      ],
    })
  })

  it('parses negated conditions and every kind of operation inside a tree', () => {
    expect(
      treeOf('and=(arr.not.cs.{1,2,3},and(id.not.eq.2,name.not.like.*3),b.is.TRUE,c.fts(simple).x y,d.eq(any).{1,"2"})').children,
    ).toEqual([
      condition('arr', { op: 'cs', value: '{1,2,3}' }, true),
      {
        type: 'and',
        negated: false,
        children: [condition('id', { op: 'eq', value: '2' }, true), condition('name', { op: 'like', value: '*3' }, true)],
      },
      condition('b', { op: 'is', value: 'true' }),
      condition('c', { op: 'fts', config: 'simple', value: 'x y' }),
      condition('d', { op: 'eq', quantifier: 'any', values: [element('1'), element('2', true)] }),
    ])
  })

  it('parses in lists inside a tree', () => {
    expect(treeOf('or=(id.in.(1,2),id.in.("3,4",5))').children).toEqual([
      condition('id', { op: 'in', values: ['1', '2'] }),
      condition('id', { op: 'in', values: ['3,4', '5'] }),
    ])
  })

  it('parses JSON paths inside a tree', () => {
    expect(treeOf('or=(jsonb_col->a->>b.eq.foo,jsonb_col->>b.eq.bar,arr->0.gt.1)').children.map((c) => (c as Condition).field)).toEqual([
      field('jsonb_col', key('a'), textKey('b')),
      field('jsonb_col', textKey('b')),
      field('arr', key(0)),
    ])
  })

  it('skips whitespace around parentheses, commas and before field names', () => {
    const tree = treeOf('and=( and ( id.in.( 1, 2, 3 ) , id.eq.3 ) , or ( id.eq.2 , id.eq.3 ) )')
    expect(tree.children).toEqual([
      { type: 'and', negated: false, children: [condition('id', { op: 'in', values: ['1', ' 2', ' 3 '] }), eq('id', '3 ')] },
      { type: 'or', negated: false, children: [eq('id', '2 '), eq('id', '3 ')] },
    ])
  })

  it('keeps whitespace inside an unquoted value, leading and trailing', () => {
    expect(treeOf('or=(a.like.  two  words  ,b.eq.x)').children[0]).toEqual(condition('a', { op: 'like', value: '  two  words  ' }))
  })

  it('reads quoted values with "," and ")" inside', () => {
    expect(treeOf('or=(name.eq."(grandchild,entity,4)",name.like."*ity,4*")').children).toEqual([
      eq('name', '(grandchild,entity,4)'),
      condition('name', { op: 'like', value: '*ity,4*' }),
    ])
  })

  it('unescapes backslashes in quoted values', () => {
    expect(treeOf('or=(a.eq."say \\"hi\\"",b.like."a\\\\_b")').children).toEqual([
      eq('a', 'say "hi"'),
      condition('b', { op: 'like', value: 'a\\_b' }),
    ])
  })

  it('keeps the quotes of a value whose closing quote is not followed by "," or ")"', () => {
    expect(treeOf('or=(a.eq."x" ,b.eq."y"z)').children).toEqual([eq('a', '"x" '), eq('b', '"y"z')])
  })

  it('reads {…} values as one value even with commas inside', () => {
    expect(treeOf('or=(tags.cs.{a,b},tags.ov.{"c,d",e},j.cs.{"k":{"l":1}})').children).toEqual([
      condition('tags', { op: 'cs', value: '{a,b}' }),
      condition('tags', { op: 'ov', value: '{"c,d",e}' }),
      condition('j', { op: 'cs', value: '{"k":{"l":1}}' }),
    ])
  })

  it('falls back to a raw value when a { never closes, as PostgREST does', () => {
    expect(treeOf('or=(a.eq.{x)').children).toEqual([eq('a', '{x')])
  })

  it('accepts empty values inside a tree', () => {
    expect(treeOf('or=(a.eq.,b.eq."")').children).toEqual([eq('a', ''), eq('b', '')])
  })

  it('treats a field named like a logic operator as a field when no "(" follows', () => {
    expect(treeOf('or=(and.eq.1,order.eq.2,not.eq.3)').children).toEqual([eq('and', '1'), eq('order', '2'), eq('not', '3')])
  })

  it('accepts quoted field names inside a tree', () => {
    expect(treeOf('or=("a.b".eq.1,"c,d"->"e)".eq.2)').children.map((c) => (c as Condition).field)).toEqual([
      field('a.b'),
      field('c,d', key('e)')),
    ])
  })

  it('rejects an empty tree at column 4, as PostgREST reports it', () => {
    expect(queryError('or=()')).toBe(
      'failed to parse logic tree (or()) at column 4: expected a condition such as "age.gt.18" or a nested and(...)/or(...)',
    )
    expect(queryError('not.and=()')).toContain('failed to parse logic tree (not.and()) at column 9')
    expect(queryError('or=(a.eq.1,and())')).toContain('at column 15: expected a condition')
  })

  it('rejects a value that does not start with "("', () => {
    expect(queryError('or=a.eq.1')).toBe(
      'failed to parse logic tree (ora.eq.1) at column 3: unexpected "a", expected "(" to open the list of ' +
        'conditions, as in or=(a.eq.1,b.eq.2)',
    )
    expect(queryError('or=')).toContain('at column 3: unexpected end of input')
  })

  it('rejects characters after the final ")"', () => {
    expect(queryError('and=(a.eq.1))')).toBe(
      'failed to parse logic tree (and(a.eq.1))) at column 12: unexpected ")", expected nothing after the closing ")" of the tree',
    )
    expect(queryError('and=(a.eq.1)x')).toContain('at column 12: unexpected "x"')
  })

  it('rejects an unclosed tree', () => {
    expect(queryError('or=(a.eq.1')).toContain('at column 10: unexpected end of input, expected "," or ")"')
    expect(queryError('or=(a.eq.1,')).toContain('at column 11: expected a condition')
  })

  it('rejects a dotted field inside a tree as an unknown operator, as PostgREST reads it', () => {
    expect(queryError('or=(child.col.eq.1)')).toMatch(
      /^failed to parse logic tree \(or\(child\.col\.eq\.1\)\) at column 10: unknown operator "col"/,
    )
  })

  it('rejects an unknown logic operator', () => {
    expect(queryError('or=(id.eq.1,not.xor(id.eq.2))')).toContain('at column 16: unknown operator "xor"')
    expect(queryError('or=(xor(a.eq.1))')).toContain('at column 7: unexpected "(", expected "." between the field and the operator')
  })

  it('rejects a condition without an operator', () => {
    expect(queryError('or=(a)')).toContain('at column 5: unexpected ")", expected "." between the field and the operator')
    expect(queryError('or=(a.eq)')).toContain('at column 8: unexpected ")", expected "." after "eq"')
  })

  it('rejects an in list inside a tree that does not open with "("', () => {
    expect(queryError('or=(id.in.1,2,id.eq.3)')).toContain('at column 10: unexpected "1", expected "(" to open the list')
  })

  it('rejects a quantifier value that is not an array literal inside a tree', () => {
    expect(queryError('or=(a.eq(any).x)')).toContain('at column 14: unexpected "x", expected an array literal')
  })

  it('rejects a bad is value inside a tree', () => {
    expect(queryError('or=(a.is.maybe,b.eq.1)')).toContain('at column 9: unexpected "maybe", expected null, not_null')
  })
})

describe('JSON paths', () => {
  it('parses -> and ->> steps', () => {
    expect(conditionOf('data->a->>b=eq.1').field).toEqual(field('data', key('a'), textKey('b')))
  })

  it('reads digits as an index when followed by ->, ::, ".", "," or the end', () => {
    expect(parseField('data->0->1', 'distinct')).toEqual(field('data', key(0), key(1)))
    expect(parseField('data->>-1', 'distinct')).toEqual(field('data', textKey(-1)))
    expect(conditionOf('data->2=eq.1').field).toEqual(field('data', key(2)))
    expect(parseQueryString('order=data->0.desc,data->>1').order.map((t) => t.field)).toEqual([
      field('data', key(0)),
      field('data', textKey(1)),
    ])
    const [item] = parseQueryString('select=data->>0::int').select!
    expect(item).toMatchObject({ field: field('data', textKey(0)), cast: 'int' })
  })

  it('reads digits followed by anything else as an object key', () => {
    expect(parseField('data->0xy1->23-xy-45->1 a', 'distinct')).toEqual(field('data', key('0xy1'), key('23-xy-45'), key('1 a')))
  })

  it('turns -0 into index 0', () => {
    expect(parseField('data->-0', 'distinct').path[0].key).toBe(0)
  })

  it('reads a quoted key as a string even when it looks like a number', () => {
    expect(parseField('data->"0"->"a.b,c"', 'distinct')).toEqual(field('data', key('0'), key('a.b,c')))
  })

  it('accepts almost anything in an unquoted key', () => {
    expect(conditionOf('data->!@%23$%25^%26*_a=eq.1').field).toEqual(field('data', key('!@#$%^&*_a')))
    expect(parseField('data->key with spaces->a-b', 'distinct')).toEqual(field('data', key('key with spaces'), key('a-b')))
  })

  it('trims the spaces around an unquoted key, as it does around field names', () => {
    expect(parseQueryString('select=data->>name , id').select![0]).toMatchObject({ field: field('data', textKey('name')), key: 'name' })
    expect(parseField('data-> a b ->" c "', 'distinct')).toEqual(field('data', key('a b'), key(' c ')))
    expect(errorOf(() => parseField('data->  ->a', 'distinct'))).toContain('at column 7: expected a JSON key, found only spaces')
  })

  it('accepts a quoted field name followed by a path', () => {
    expect(parseField('"my col"->a', 'distinct')).toEqual(field('my col', key('a')))
  })

  it('rejects ->> before another step', () => {
    expect(queryError('a->>b->c=eq.1')).toBe(
      'failed to parse field (a->>b->c) at column 6: "->>" yields text, so it must be the last step of a JSON path',
    )
  })

  it('rejects malformed operands', () => {
    expect(queryError('a->>--34=eq.1')).toBe(
      'failed to parse field (a->>--34) at column 5: unexpected "-", expected a JSON key or array index',
    )
    expect(queryError('a->>-78xy=eq.1')).toContain('at column 5: unexpected "-", expected a JSON key or array index')
    expect(queryError('a->-x=eq.1')).toContain('at column 4: unexpected "-"')
    expect(queryError('a->(x=eq.1')).toContain('at column 4: unexpected "(", expected a JSON key or array index')
    expect(queryError('a->=eq.1')).toContain('at column 4: unexpected end of input, expected a JSON key or array index')
    expect(queryError('a->b-=eq.1')).toContain('at column 6: unexpected end of input, expected a JSON key character after "-"')
    expect(queryError('a->"b=eq.1')).toContain('at column 4: the quoted JSON key is never closed')
  })

  it('rejects an index beyond the int range', () => {
    expect(queryError('a->99999999999=eq.1')).toBe(
      'failed to parse field (a->99999999999) at column 4: the array index 99999999999 is out of range',
    )
  })
})

describe('quoting and escapes', () => {
  it('keeps every character inside a quoted name', () => {
    expect(conditionOf('%22:arr->ow::cast%22=eq.1').field).toEqual(field(':arr->ow::cast'))
    expect(conditionOf('%22(inside,parens)%22=eq.1').field).toEqual(field('(inside,parens)'))
    expect(conditionOf('%22%20%20col%20%20w%20%20space%20%20%22=eq.1').field).toEqual(field('  col  w  space  '))
    expect(conditionOf('%22*id*%22=eq.1').field).toEqual(field('*id*'))
  })

  it('unescapes a backslash before any character in a quoted name', () => {
    expect(parseField('"a\\"b\\\\c\\d"', 'distinct')).toEqual(field('a"b\\cd'))
  })

  it('accepts an empty quoted name', () => {
    expect(parseField('""', 'distinct')).toEqual(field(''))
  })

  it('rejects an unclosed quoted name at the opening quote', () => {
    expect(queryError('%22abc=eq.1')).toBe(
      'failed to parse field ("abc) at column 1: the quoted field name is never closed: expected a closing \'"\'',
    )
    expect(errorOf(() => parseField('"a\\"', 'distinct'))).toContain('the quoted field name is never closed')
  })

  it('does not interpret quotes in a top-level value', () => {
    expect(operationOf('like."a,b"')).toEqual({ op: 'like', value: '"a,b"' })
  })
})

describe('select', () => {
  const item = (name: string, extra: Partial<{ path: PathStep[]; alias: string; cast: string; key: string }> = {}) => ({
    type: 'field',
    field: field(name, ...(extra.path ?? [])),
    alias: extra.alias ?? null,
    cast: extra.cast ?? null,
    key: extra.key ?? extra.alias ?? name,
  })

  it('returns null for a missing or empty select', () => {
    expect(parseQueryString('').select).toBeNull()
    expect(parseQueryString('select=').select).toBeNull()
  })

  it('parses a star and plain fields with spaces around items', () => {
    expect(parseQueryString('select=*, id ,  name').select).toEqual([{ type: 'star' }, item('id'), item('name')])
  })

  it('parses aliases, quoted aliases and casts', () => {
    expect(parseQueryString('select=total:amount::NUMERIC, "my key":name, id::text, n:c::double precision').select).toEqual([
      item('amount', { alias: 'total', cast: 'numeric' }),
      item('name', { alias: 'my key' }),
      item('id', { cast: 'text' }),
      item('c', { alias: 'n', cast: 'double precision' }),
    ])
  })

  it('names a JSON path by its last object key, skipping trailing indexes', () => {
    const select = parseQueryString('select=settings->foo->>bar,data->>0,data->c->>0,data->0->0xy1->1->23-xy-45->1->xy-6->>0::int').select!
    expect(select.map((s) => s.type === 'field' && s.key)).toEqual(['bar', 'data', 'c', 'xy-6'])
  })

  it('names a JSON path by its alias when given', () => {
    expect(parseQueryString('select=src:meta->>source').select).toEqual([item('meta', { path: [textKey('source')], alias: 'src' })])
  })

  it('parses a quoted field with a path and cast', () => {
    expect(parseQueryString('select="a,b"->c::int').select).toEqual([item('a,b', { path: [key('c')], cast: 'int', key: 'c' })])
  })

  it('rejects embedding, spreads, hints and aggregates as not supported on datasets', () => {
    expect(queryError('select=id,rel(*)')).toBe(
      'failed to parse select parameter (id,rel(*)) at column 7: embedding a resource (relation(...)) is not supported on datasets',
    )
    expect(queryError('select=alias:rel(*)')).toContain('embedding a resource (relation(...)) is not supported on datasets')
    expect(queryError('select=...rel(*)')).toContain(
      'at column 1: spreading an embedded resource (...relation(...)) is not supported on datasets',
    )
    expect(queryError('select=rel!hint(*)')).toContain('at column 4: embedding hints (relation!hint) are not supported on datasets')
    expect(queryError('select=amount.sum()')).toContain('at column 7: aggregates such as .sum() are not supported on datasets')
    expect(queryError('select=amount::int.avg()')).toContain('aggregates such as .sum() are not supported')
    expect(queryError('select=count()')).toContain('aggregates such as count() are not supported on datasets')
    expect(queryError('select=total:count()')).toContain('aggregates such as count() are not supported on datasets')
  })

  it('rejects malformed items at the right column', () => {
    expect(queryError('select=id,')).toContain('at column 4: unexpected end of input, expected a field name, "*" or alias:field')
    expect(queryError('select=id::')).toContain('at column 5: unexpected end of input, expected a type name after "::"')
    expect(queryError('select=id::int4[]')).toContain('at column 9: unexpected "[", expected "," or the end of the select list')
    expect(queryError('select=*::int')).toContain('at column 2: unexpected ":"')
    expect(queryError('select=a:')).toContain('at column 3: unexpected end of input, expected a field name after the alias "a:"')
    expect(queryError('select=a.b')).toContain('at column 2: unexpected "."')
    expect(queryError('select=a:%20')).toContain('at column 3: expected a field name, found only spaces')
  })

  it('accepts exactly the maximum number of items and rejects one more', () => {
    const items = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(',')
    expect(parseQueryString(`select=${items(100)}`).select).toHaveLength(100)
    expect(queryError(`select=${items(101)}`)).toMatch(/select may list at most 100 items$/)
  })
})

describe('order', () => {
  it('parses terms with direction and nulls placement', () => {
    expect(parseQueryString('order=client_id.desc.nullslast,id.desc, name ,age.nullsfirst,x.asc').order).toEqual([
      { field: field('client_id'), direction: 'desc', nulls: 'last' },
      { field: field('id'), direction: 'desc', nulls: null },
      { field: field('name'), direction: null, nulls: null },
      { field: field('age'), direction: null, nulls: 'first' },
      { field: field('x'), direction: 'asc', nulls: null },
    ])
  })

  it('parses JSON paths and quoted names in order terms', () => {
    expect(parseQueryString('order=data->>id.asc,data->foo->>bar.nullsfirst,"a.b".desc').order).toEqual([
      { field: field('data', textKey('id')), direction: 'asc', nulls: null },
      { field: field('data', key('foo'), textKey('bar')), direction: null, nulls: 'first' },
      { field: field('a.b'), direction: 'desc', nulls: null },
    ])
  })

  it('rejects unknown words after a term at the column PostgREST reports', () => {
    expect(queryError('order=id.ac')).toBe(
      'failed to parse order (id.ac) at column 4: unexpected "ac", expected "asc", "desc", "nullsfirst" or "nullslast"',
    )
    expect(queryError('order=id.descc')).toContain('at column 8: unexpected "c"')
    expect(queryError('order=id.nullslasttt')).toContain('at column 13: unexpected "t", expected "," or the end of the order')
    expect(queryError('order=id.asc.smth')).toContain('at column 8: unexpected "smth", expected "nullsfirst" or "nullslast"')
    expect(queryError('order=id.asc.nullslasttt')).toContain('at column 17')
    expect(queryError('order=id.ASC')).toContain('at column 4: unexpected "ASC"')
    expect(queryError('order=id.')).toContain('at column 4: unexpected end of input')
  })

  it('rejects an empty order and empty terms', () => {
    expect(queryError('order=')).toContain('failed to parse order () at column 1: unexpected end of input, expected a field name')
    expect(queryError('order=a,,b')).toContain('at column 3: unexpected ","')
  })

  it('rejects ordering by an embedded resource', () => {
    expect(queryError('order=rel(col).desc')).toBe(
      'failed to parse order (rel(col).desc) at column 4: ordering by a column of an embedded resource ' +
        '(relation(column)) is not supported on datasets',
    )
  })

  it('accepts exactly the maximum number of terms and rejects one more', () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(',')
    expect(parseQueryString(`order=${terms(16)}`).order).toHaveLength(16)
    expect(queryError(`order=${terms(17)}`)).toMatch(/order may list at most 16 terms$/)
  })
})

describe('limit and offset', () => {
  it('parses integers, negative ones included', () => {
    expect(parseQueryString('limit=10&offset=20')).toMatchObject({ limit: 10, offset: 20 })
    expect(parseQueryString('limit=-1&offset=-5')).toMatchObject({ limit: -1, offset: -5 })
    expect(parseQueryString('limit=0&offset=007')).toMatchObject({ limit: 0, offset: 7 })
    expect(Object.is(parseQueryString('limit=-0').limit, 0)).toBe(true)
  })

  it('lets the last limit and offset win', () => {
    expect(parseQueryString('limit=1&offset=2&limit=3&offset=4')).toMatchObject({ limit: 3, offset: 4 })
  })

  it('rejects anything but an integer, naming the parameter and the value', () => {
    expect(queryError('limit=abc')).toBe('limit must be an integer, got "abc"')
    expect(queryError('offset=1.5')).toBe('offset must be an integer, got "1.5"')
    expect(queryError('limit=')).toBe('limit must be an integer, got ""')
    expect(queryError('limit=+5')).toBe('limit must be an integer, got " 5"')
    expect(queryError('limit=%2B5')).toBe('limit must be an integer, got "+5"')
    expect(queryError('limit=1e3')).toBe('limit must be an integer, got "1e3"')
  })

  it('rejects more than 15 digits as too large', () => {
    expect(parseQueryString('offset=999999999999999').offset).toBe(999999999999999)
    expect(queryError('offset=1234567890123456')).toBe('offset is too large: at most 15 digits, got "1234567890123456"')
  })
})

describe('parseField, parseColumnList and parseArrayLiteral', () => {
  it('parses a field for a surface parameter and names the parameter in errors', () => {
    expect(parseField(' meta->>source ', 'distinct')).toEqual(field('meta', textKey('source')))
    expect(errorOf(() => parseField('a.b', 'distinct'))).toBe(
      'failed to parse distinct parameter (a.b) at column 2: unexpected ".", expected "->", "->>" or the end of the field',
    )
    expect(errorOf(() => parseField('', 'distinct'))).toContain('at column 1: unexpected end of input, expected a field name')
  })

  it('parses column lists with spaces and quoted names', () => {
    expect(parseColumnList('a, b ,"c,d","e\\"f"', 'columns')).toEqual(['a', 'b', 'c,d', 'e"f'])
  })

  it('rejects empty and malformed column lists', () => {
    expect(errorOf(() => parseColumnList('', 'columns'))).toBe(
      'failed to parse columns parameter () at column 1: unexpected end of input, expected a column name',
    )
    expect(errorOf(() => parseColumnList('a,,b', 'on_conflict'))).toContain('failed to parse on_conflict parameter (a,,b) at column 3')
    expect(errorOf(() => parseColumnList('a->b', 'columns'))).toContain('at column 2: unexpected "-"')
    expect(errorOf(() => parseColumnList('a,', 'columns parameter'))).toContain('failed to parse columns parameter (a,) at column 3')
  })

  it('parses an empty array literal', () => {
    expect(parseArrayLiteral('{}')).toEqual([])
    expect(parseArrayLiteral(' {  } ')).toEqual([])
  })

  it('parses quoted, unquoted and NULL elements', () => {
    expect(parseArrayLiteral('{a,"b,c",NULL, null ,"NULL", x y ,"",\\,e\\ }')).toEqual([
      element('a'),
      element('b,c', true),
      element(null),
      element(null),
      element('NULL', true),
      element('x y'),
      element('', true),
      element(',e '),
    ])
  })

  it('unescapes backslashes inside quoted elements', () => {
    expect(parseArrayLiteral('{"a\\"b","c\\\\d","{}"}')).toEqual([element('a"b', true), element('c\\d', true), element('{}', true)])
  })

  it('does not treat an escaped NULL as null', () => {
    expect(parseArrayLiteral('{N\\ULL}')).toEqual([element('NULL')])
  })

  it('rejects nested arrays', () => {
    expect(errorOf(() => parseArrayLiteral('{{1,2},{3,4}}'))).toBe(
      'failed to parse array literal ({{1,2},{3,4}}) at column 2: nested arrays are not supported',
    )
    expect(queryError('a=eq(any).{1,{2}}')).toContain('at column 12: nested arrays are not supported')
  })

  it('rejects a missing brace, junk after "}" and empty elements with a column', () => {
    expect(errorOf(() => parseArrayLiteral('a,b'))).toBe(
      'failed to parse array literal (a,b) at column 1: unexpected "a", expected "{" to open the array literal',
    )
    expect(errorOf(() => parseArrayLiteral('{a,b'))).toContain(
      'at column 5: unexpected end of input, expected "," or "}" in the array literal',
    )
    expect(errorOf(() => parseArrayLiteral('{a}x'))).toContain(
      'at column 4: unexpected "x", expected the end of the array literal after "}"',
    )
    expect(errorOf(() => parseArrayLiteral('{a,,b}'))).toContain('at column 4: unexpected ",", expected an array element')
    expect(errorOf(() => parseArrayLiteral('{a,}'))).toContain('at column 4: unexpected "}", expected an array element')
    expect(errorOf(() => parseArrayLiteral('{"a"b}'))).toContain('at column 5: unexpected "b", expected "," or "}"')
    expect(errorOf(() => parseArrayLiteral('{a"b"}'))).toContain("at column 3: unexpected '\"' inside an unquoted array element")
    expect(errorOf(() => parseArrayLiteral('{"ab}'))).toContain('at column 2: the quoted array element is never closed')
  })

  it('rejects more than the maximum number of elements', () => {
    const elements = (n: number) => `{${Array.from({ length: n }, (_, i) => i).join(',')}}`
    expect(parseArrayLiteral(elements(1000))).toHaveLength(1000)
    expect(errorOf(() => parseArrayLiteral(elements(1001)))).toMatch(/an array literal may hold at most 1000 elements$/)
  })
})

describe('limits and hostile input', () => {
  it('rejects a query string longer than the limit, giving the limit', () => {
    const query = `a=eq.${'x'.repeat(queryLimits.maxQueryBytes)}`
    expect(queryError(query)).toBe(`the query string is ${query.length} characters long; the limit is 16384`)
    expect(() => parseQueryString(`a=eq.${'x'.repeat(queryLimits.maxQueryBytes - 5)}`)).not.toThrow()
  })

  it('accepts trees nested exactly to the maximum depth', () => {
    const query = `and=(${'and('.repeat(15)}a.eq.1${')'.repeat(16)}`
    let tree = treeOf(query)
    let depth = 1
    while (tree.children[0].type !== 'condition') {
      tree = tree.children[0] as LogicTree
      depth++
    }
    expect(depth).toBe(queryLimits.maxDepth)
  })

  it('rejects 20-deep nesting naming the limit', () => {
    const query = `and=(${'or('.repeat(19)}a.eq.1${')'.repeat(20)}`
    expect(queryError(query)).toMatch(
      /^failed to parse logic tree \(and\(or\(.*\) at column 50: logic trees may nest at most 16 levels deep$/,
    )
  })

  it('rejects 100k "(" without crashing', () => {
    expect(queryError(`and=${'('.repeat(100_000)}`)).toContain('the limit is 16384')
  })

  it('rejects as many "(" as fit in the size limit without recursing', () => {
    const message = queryError(`and=${'('.repeat(queryLimits.maxQueryBytes - 4)}`)
    expect(message).toMatch(/at column 5: expected a condition/)
  })

  it('rejects thousands of nested and( without overflowing the stack', () => {
    expect(queryError(`and=(${'and('.repeat(4000)}`)).toContain('logic trees may nest at most 16 levels deep')
  })

  it('counts conditions across filters and trees and rejects the 201st', () => {
    const filters = Array.from({ length: 150 }, () => 'a=eq.1').join('&')
    const tree = `or=(${Array.from({ length: 50 }, () => 'b.eq.2').join(',')})`
    expect(parseQueryString(`${filters}&${tree}`).filters).toHaveLength(151)
    expect(queryError(`${filters}&${tree}&c=eq.3`)).toBe(
      'failed to parse filter (eq.3) at column 1: a query may hold at most 200 conditions (filters plus conditions inside and/or trees)',
    )
    expect(queryError(`${tree}&${filters}&or=(c.eq.3)`)).toContain(
      'failed to parse logic tree (or(c.eq.3)) at column 4: a query may hold at most 200 conditions',
    )
  })

  it('truncates the echoed input to about 200 characters', () => {
    const message = queryError(`a=${'x'.repeat(5000)}.1`)
    expect(message).toContain(`(${'x'.repeat(200)}…)`)
    expect(message.length).toBeLessThan(600)
  })

  it('echoes control characters visibly', () => {
    expect(queryError('a=eq%0A.1')).toContain('unknown operator "eq\\u000a"')
  })
})

describe('errors', () => {
  it('throws the one ApiError type with invalid_query and status 400', () => {
    let thrown: unknown
    try {
      parseQueryString('a=bogus.1')
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ApiError)
    expect((thrown as ApiError).toJSON()).toEqual({
      error: { code: 'invalid_query', message: expect.stringMatching(/^failed to parse filter/) },
    })
  })

  it('counts columns in characters, not UTF-16 units', () => {
    expect(queryError('a=eq(any).{%F0%9D%92%9C}x')).toContain('at column 12: unexpected "x"')
  })

  it('counts logic tree columns from the key', () => {
    expect(queryError('not.or=(a.eq.1,)')).toContain('failed to parse logic tree (not.or(a.eq.1,)) at column 15')
  })

  it('counts filter columns within the value', () => {
    expect(queryError('some_long_column=eq(any).{1}x')).toContain('failed to parse filter (eq(any).{1}x) at column 12')
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Round trip: random valid trees, serialised as a client would send them, parse back to the same tree.

/** mulberry32: small, fast, seeded, good enough for test data. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

class TreeGenerator {
  constructor(private readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max)
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }
  chance(p: number): boolean {
    return this.random() < p
  }
  text(alphabet: readonly string[], maxLength: number, minLength = 0): string {
    const length = minLength + this.int(maxLength - minLength + 1)
    return Array.from({ length }, () => this.pick(alphabet)).join('')
  }

  // Values may hold every character the grammar cares about.
  private readonly valueChars = [
    'a',
    'b',
    'Z',
    '0',
    '7',
    ' ',
    ',',
    ')',
    '(',
    '.',
    '"',
    '\\',
    '{',
    '}',
    '-',
    '>',
    ':',
    '*',
    '%',
    '+',
    '&',
    '=',
    '#',
    'é',
    '𝒜',
  ]
  private readonly runChars = ['a', 'b', 'x', 'é', '𝒜', '_', '$', '1']

  name(): string {
    if (this.chance(0.3)) return this.text(this.valueChars, 6)
    // Unquoted: starts with f/g/h so it is never a reserved parameter; runs trimmed of spaces, single dashes.
    const runs = Array.from({ length: 1 + this.int(2) }, () => {
      const run = this.text(this.runChars, 4, 1)
      return this.chance(0.2) ? `${run} ${this.text(this.runChars, 2, 1)}` : run
    })
    return this.pick(['f', 'g', 'h']) + runs.join('-')
  }

  path(): PathStep[] {
    const steps: PathStep[] = []
    const length = this.int(4)
    for (let i = 0; i < length; i++) {
      const k = this.chance(0.35)
        ? this.int(20) - 5
        : this.chance(0.5)
          ? this.text(this.valueChars, 5)
          : this.text(['k', 'e', 'y', '_', '!', '*', ' ', '$'], 5, 1)
      steps.push({ key: k, text: i === length - 1 && this.chance(0.5) })
    }
    return steps
  }

  operation(): Operation {
    const kind = this.int(6)
    if (kind === 0) {
      const op = this.pick(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch'] as const)
      const values = Array.from(
        { length: this.int(4) },
        (): ArrayElement =>
          this.chance(0.2)
            ? element(null)
            : this.chance(0.5)
              ? element(this.text(this.valueChars, 5), true)
              : element(this.text(['a', 'b', '1', '_'], 4, 1)),
      )
      return { op, quantifier: this.pick(['any', 'all'] as const), values }
    }
    if (kind === 1) {
      const values = Array.from({ length: this.int(5) }, () => this.text(this.valueChars, 5))
      // A single empty element is the empty list by definition.
      return { op: 'in', values: values.length === 1 && values[0] === '' ? [] : values }
    }
    if (kind === 2) return { op: 'is', value: this.pick(['null', 'not_null', 'true', 'false', 'unknown'] as const) }
    if (kind === 3) {
      return {
        op: this.pick(['fts', 'plfts', 'phfts', 'wfts'] as const),
        config: this.chance(0.5) ? this.pick(['english', 'simple', 'my cfg']) : null,
        value: this.text(this.valueChars, 6),
      }
    }
    const op = this.pick([
      'eq',
      'neq',
      'gt',
      'gte',
      'lt',
      'lte',
      'like',
      'ilike',
      'match',
      'imatch',
      'isdistinct',
      'cs',
      'cd',
      'ov',
      'sl',
      'sr',
      'nxr',
      'nxl',
      'adj',
    ] as const)
    return { op, value: this.text(this.valueChars, 8) }
  }

  condition(): Condition {
    return { type: 'condition', field: { name: this.name(), path: this.path() }, negated: this.chance(0.3), operation: this.operation() }
  }

  tree(depth: number): LogicTree {
    const children = Array.from(
      { length: 1 + this.int(3) },
      (): Filter => (depth < 3 && this.chance(0.35) ? this.tree(depth + 1) : this.condition()),
    )
    return { type: this.pick(['and', 'or'] as const), negated: this.chance(0.3), children }
  }
}

const quote = (text: string) => `"${text.replace(/[\\"]/g, (ch) => `\\${ch}`)}"`

function serialiseName(name: string): string {
  return /^[fgh][\p{L}\p{Nd}_$ -]*$/u.test(name) ? name : quote(name)
}

function serialiseField(f: Field): string {
  const rawKey = /^[key_!*$]([key_!* $]*[key_!*$])?$/ // unquoted keys are trimmed, so only inner spaces go raw
  return (
    serialiseName(f.name) +
    f.path
      .map((s) => (s.text ? '->>' : '->') + (typeof s.key === 'number' ? String(s.key) : rawKey.test(s.key) ? s.key : quote(s.key)))
      .join('')
  )
}

/** Inside trees and in lists, quote whatever the raw form could not carry. */
function serialiseTreeValue(value: string): string {
  return /[,)]|^["{]/.test(value) ? quote(value) : value
}

function serialiseOperation(operation: Operation, inTree: boolean): string {
  switch (operation.op) {
    case 'in': {
      const items = operation.values.map((v, i) =>
        /[,)]|^"/.test(v) || (i === 0 && /^\s/.test(v)) || (v === '' && operation.values.length === 1) ? quote(v) : v,
      )
      return `in.(${items.join(',')})`
    }
    case 'is':
      // is values are case-insensitive: send every other letter in upper case.
      return `is.${operation.value.replace(/./g, (ch, i: number) => (i % 2 ? ch.toUpperCase() : ch))}`
    case 'fts':
    case 'plfts':
    case 'phfts':
    case 'wfts': {
      const config = operation.config === null ? '' : `(${operation.config})`
      return `${operation.op}${config}.${inTree ? serialiseTreeValue(operation.value) : operation.value}`
    }
    default:
      if ('quantifier' in operation) {
        const items = operation.values.map((e) => (e.text === null ? 'NULL' : e.quoted ? quote(e.text) : e.text))
        return `${operation.op}(${operation.quantifier}).{${items.join(',')}}`
      }
      return `${operation.op}.${inTree ? serialiseTreeValue(operation.value) : operation.value}`
  }
}

function serialiseCondition(c: Condition, inTree: boolean): string {
  return `${c.negated ? 'not.' : ''}${serialiseOperation(c.operation, inTree)}`
}

function serialiseTreeList(tree: LogicTree, spaces: () => string): string {
  const children = tree.children.map((child) =>
    child.type === 'condition'
      ? `${spaces()}${serialiseField(child.field)}.${serialiseCondition(child, true)}`
      : `${spaces()}${child.negated ? 'not.' : ''}${child.type}${spaces()}${serialiseTreeList(child, spaces)}${spaces()}`,
  )
  return `(${children.join(',')})`
}

describe('round trip of generated queries', () => {
  it('parses 400 random valid queries back into the trees they were built from', () => {
    const generate = new TreeGenerator(seededRandom(20240611))
    for (let n = 0; n < 400; n++) {
      const expected: Filter[] = []
      const params: string[] = []
      const spaces = () => (generate.chance(0.2) ? ' ' : '')
      for (let i = 0, count = 1 + generate.int(3); i < count; i++) {
        if (generate.chance(0.5)) {
          const tree = generate.tree(1)
          expected.push(tree)
          params.push(`${tree.negated ? 'not.' : ''}${tree.type}=${encodeURIComponent(serialiseTreeList(tree, spaces))}`)
        } else {
          const c = generate.condition()
          expected.push(c)
          params.push(`${encodeURIComponent(serialiseField(c.field))}=${encodeURIComponent(serialiseCondition(c, false))}`)
        }
      }
      // Half the time send spaces the way forms do, as "+".
      const query = params.join('&').replace(/%20/g, () => (generate.chance(0.5) ? '+' : '%20'))
      expect(parseQueryString(query).filters, query).toEqual(expected)
    }
  })
})
