// Filters: conditions and and/or/not trees → a WHERE clause, each operator in the form its index can serve.
import type { ArrayElement, Condition, Filter, FtsOperator, Operation, QuantifiableOperator, RangeOperator } from './ast.ts'
import { likeEscapeProblem } from '../errors.ts'
import {
  columnRef,
  dynamicBoolean,
  dynamicNumber,
  fieldLabel,
  invalid,
  isNullExpr,
  jsonExpr,
  kindOf,
  resolve,
  textExpr,
  typedColumn,
  valueExpr,
  type Kind,
  type RowShape,
  type Target,
} from './fields.ts'
import { containmentJson, jsonElements, literalValue, sqlTypeOfKind } from './literals.ts'
import type { Params } from './params.ts'
import { isNumberLiteral, pgTextArray } from './values.ts'

/** What selects rows: filters and trees (ANDed) and an optional full-text search over the whole row. */
export interface RowFilter {
  filters: readonly Filter[]
  search?: string | null
}

type ComparisonOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte'
type PatternOperator = 'like' | 'ilike' | 'match' | 'imatch'

const comparison: Record<ComparisonOperator, string> = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' }
const patternOp: Record<PatternOperator, string> = { like: 'like', ilike: 'ilike', match: '~', imatch: '~*' }
const isPatternOperator = (op: string): op is PatternOperator => Object.hasOwn(patternOp, op)
const ftsFunction: Record<FtsOperator, string> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
}
const rangeNames: Record<RangeOperator, string> = {
  sl: 'strictly left of',
  sr: 'strictly right of',
  nxr: 'does not extend to the right of',
  nxl: 'does not extend to the left of',
  adj: 'adjacent to',
}

/**
 * A WHERE clause for the filters. `positive` is false under an odd number of `not`s: only where a NULL and
 * a false mean the same (positive places) may `eq` use the containment form that the GIN index serves.
 */
export function compileFilters(shape: RowShape, filters: readonly Filter[], p: Params, positive = true): string {
  if (filters.length === 0) return 'true'
  return filters.map((f) => compileFilter(shape, f, p, positive)).join(' and ')
}

function compileFilter(shape: RowShape, f: Filter, p: Params, positive: boolean): string {
  if (f.type === 'condition') {
    const inner = compileCondition(shape, f, p, f.negated ? !positive : positive)
    return f.negated ? `not ${inner}` : inner
  }
  const inner = positive !== f.negated
  const parts = f.children.map((child) => compileFilter(shape, child, p, inner))
  const joined = `(${parts.join(f.type === 'and' ? ' and ' : ' or ')})`
  return f.negated ? `not ${joined}` : joined
}

function compileCondition(shape: RowShape, c: Condition, p: Params, positive: boolean): string {
  const t = resolve(shape, c.field)
  const kind = kindOf(t)
  const label = fieldLabel(c.field)
  const o: Operation = c.operation
  const where = `the filter on "${label}"`
  // PostgreSQL reads numbers and JSON in its own grammar: a literal JavaScript accepts may still be refused.
  if (kind === 'number' || kind === 'json' || ['cs', 'cd', 'ov'].includes(o.op)) p.suspect('literal', where)

  if ('quantifier' in o) return compileQuantified(t, kind, label, o.op, o.quantifier, o.values, p)

  switch (o.op) {
    case 'eq':
    case 'neq':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (kind === 'dynamic' && o.op !== 'eq' && o.op !== 'neq' && isNumberLiteral(o.value)) {
        p.suspect('literal', where)
        return `(${dynamicNumber(t, p)} ${comparison[o.op]} ${p.add(o.value.trim(), 'numeric')})`
      }
      const literal = literalValue(kind, o.value, label)
      return `(${valueExpr(t, kind, p)} ${comparison[o.op]} ${p.add(literal, sqlTypeOfKind[kind])})`
    }
    case 'like':
    case 'ilike':
      p.suspect('like', where)
      return likeCondition(t, o.op, likePattern(o.value, label), p)
    case 'match':
    case 'imatch':
      p.suspect('regex', where)
      return `(${textExpr(t, p)} ${patternOp[o.op]} ${p.add(o.value, 'text')})`
    case 'isdistinct':
      return `(${valueExpr(t, kind, p)} is distinct from ${p.add(literalValue(kind, o.value, label), sqlTypeOfKind[kind])})`
    case 'in': {
      if (o.values.length === 0) return 'false'
      const values = o.values.map((v) => literalValue(kind, v, label))
      return `(${valueExpr(t, kind, p)} = any(${p.add(pgTextArray(values), `${sqlTypeOfKind[kind]}[]`)}))`
    }
    case 'is':
      switch (o.value) {
        case 'null':
          return isNullExpr(t, p, false)
        case 'not_null':
          return isNullExpr(t, p, true)
        default: {
          const bool = kind === 'boolean' ? valueExpr(t, kind, p) : kind === 'dynamic' || kind === 'json' ? dynamicBoolean(t, p) : null
          if (!bool)
            throw invalid(
              `is.${o.value} applies to boolean values: "${label}" is ` +
                `${kind === 'uuid' ? 'a UUID' : `a ${kind === 'timestamptz' ? 'timestamp' : kind} column`}.`,
            )
          return `(${bool} is ${o.value})`
        }
      }
    case 'fts':
    case 'plfts':
    case 'phfts':
    case 'wfts': {
      if (o.config !== null) p.suspect('tsconfig', where)
      if (o.op === 'fts') p.suspect('tsquery', where)
      const config = o.config === null ? null : p.add(o.config, 'regconfig')
      const args = (value: string) => (config ? `${config}, ${value}` : value)
      return `(to_tsvector(${args(textExpr(t, p))}) @@ ${ftsFunction[o.op]}(${args(p.add(o.value, 'text'))}))`
    }
    case 'cs':
    case 'cd': {
      if (t.system) throw invalid(`${o.op} applies to JSON values: "${label}" is not one.`)
      const json = containmentJson(o.value, label, o.op)
      if (o.op === 'cs' && positive && !t.declared && t.field.path.length === 0) {
        return `(t._extras @> ${p.add(`{${JSON.stringify(t.field.name)}:${json}}`, 'jsonb')})`
      }
      return `(${jsonExpr(t, p)} ${o.op === 'cs' ? '@>' : '<@'} ${p.add(json, 'jsonb')})`
    }
    case 'ov': {
      if (t.system) throw invalid(`ov applies to JSON arrays: "${label}" is not one.`)
      const elements = jsonElements(o.value, label, 'ov')
      if (elements.length === 0) return 'false'
      const topLevel = positive && !t.declared && t.field.path.length === 0
      const alternatives = elements.map((e) =>
        topLevel
          ? `t._extras @> ${p.add(JSON.stringify({ [t.field.name]: [e] }), 'jsonb')}`
          : `${jsonExpr(t, p)} @> ${p.add(JSON.stringify([e]), 'jsonb')}`,
      )
      return `(${alternatives.join(' or ')})`
    }
    case 'sl':
    case 'sr':
    case 'nxr':
    case 'nxl':
    case 'adj':
      throw invalid(`${o.op} (${rangeNames[o.op]}) compares ranges, and dataset values are JSON, which has no range type.`)
  }
}

/**
 * A LIKE pattern as PostgREST writes it (`*` for `%`). PostgreSQL refuses a pattern ending in its escape
 * character, but only once a row reaches that end: refused here for every row alike.
 */
function likePattern(value: string, label: string): string {
  const pattern = value.replaceAll('*', '%')
  const trailing = pattern.length - pattern.replace(/\\+$/, '').length
  if (trailing % 2 === 1) {
    throw invalid(likeEscapeProblem(`the filter on "${label}"`))
  }
  return pattern
}

/**
 * LIKE on a declared text column. LIKE is not leakproof, so under RLS no index can serve it; a pattern that
 * begins with fixed text also gets the range of text starting with it, in comparisons that are leakproof
 * (and bytewise, as the column's collation is C), which the column's B-tree serves.
 */
function likeCondition(t: Target, op: 'like' | 'ilike', pattern: string, p: Params): string {
  const like = `(${textExpr(t, p)} ${patternOp[op]} ${p.add(pattern, 'text')})`
  const column = typedColumn(t)
  if (op !== 'like' || column?.type !== 'text') return like
  const prefix = likePrefix(pattern)
  if (prefix === '') return like
  const ref = `(${columnRef(column)} collate "C")`
  const upper = prefixSuccessor(prefix)
  const bounds = [`${ref} >= ${p.add(prefix, 'text')}`]
  if (upper !== null) bounds.push(`${ref} < ${p.add(upper, 'text')}`)
  return `(${bounds.join(' and ')} and ${like})`
}

/** The fixed text a LIKE pattern begins with (`\` escapes the next character). */
function likePrefix(pattern: string): string {
  let prefix = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '%' || ch === '_') break
    if (ch === '\\') {
      i++
      if (i < pattern.length) prefix += pattern[i]
      continue
    }
    prefix += ch
  }
  return prefix
}

/** The least text greater than every text beginning with `prefix`, bytewise; null when there is none. */
function prefixSuccessor(prefix: string): string | null {
  const points = Array.from(prefix, (c) => c.codePointAt(0) as number)
  while (points.length > 0) {
    const last = (points.pop() as number) + 1
    if (last > 0x10ffff) continue
    points.push(last >= 0xd800 && last <= 0xdfff ? 0xe000 : last)
    return String.fromCodePoint(...points)
  }
  return null
}

function compileQuantified(
  t: Target,
  kind: Kind,
  label: string,
  op: QuantifiableOperator,
  quantifier: 'any' | 'all',
  elements: readonly ArrayElement[],
  p: Params,
): string {
  const texts = elements.map((e) => e.text)
  if (isPatternOperator(op)) {
    const like = op === 'like' || op === 'ilike'
    p.suspect(like ? 'like' : 'regex', `the filter on "${label}"`)
    const patterns = like ? texts.map((v) => (v === null ? null : likePattern(v, label))) : texts
    return `(${textExpr(t, p)} ${patternOp[op]} ${quantifier}(${p.add(pgTextArray(patterns), 'text[]')}))`
  }
  if (kind === 'dynamic' && op !== 'eq' && texts.length > 0 && texts.every((v) => v !== null && isNumberLiteral(v))) {
    p.suspect('literal', `the filter on "${label}"`)
    return `(${dynamicNumber(t, p)} ${comparison[op]} ${quantifier}(${p.add(pgTextArray(texts), 'numeric[]')}))`
  }
  const values = texts.map((v) => (v === null ? null : literalValue(kind, v, label)))
  return `(${valueExpr(t, kind, p)} ${comparison[op]} ${quantifier}(${p.add(pgTextArray(values), `${sqlTypeOfKind[kind]}[]`)}))`
}
