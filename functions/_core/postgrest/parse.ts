// The parser: a raw query string → the typed tree of ast.ts, following PostgREST's grammar (reference:
// the team's postgrest-grammar notes). It decodes exactly once, as PostgREST does (`+` is a space, and a
// percent-escape never escapes grammar: only double quotes do), and every error says where it happened:
// `failed to parse <what> (<text>) at column <n>: unexpected … expecting …`.
import type { ArrayElement, Field, Filter, FtsOperator, IsValue, Operation, OrderTerm, ParsedQuery, PathStep, QuantifiableOperator, SelectItem } from './ast.ts'
import { ApiError } from '../errors.ts'

export interface ParseOptions {
  /** Parameter names this surface reserves besides select/order/limit/offset/and/or (first occurrence wins). */
  params?: readonly string[]
}

export const queryLimits = { maxQueryBytes: 16384, maxDepth: 16, maxConditions: 200, maxListItems: 1000, maxSelectItems: 100, maxOrderTerms: 16 }

const invalid = (message: string) => new ApiError('invalid_query', message)

function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

const simpleOperators = ['neq', 'isdistinct', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxr', 'nxl', 'adj'] as const
const quantifiable: readonly QuantifiableOperator[] = ['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']
const ftsOperators: readonly FtsOperator[] = ['fts', 'plfts', 'phfts', 'wfts']
const operators: readonly string[] = [...quantifiable, ...simpleOperators, 'in', 'is', ...ftsOperators]
const isValues: readonly IsValue[] = ['null', 'not_null', 'true', 'false', 'unknown']
const identifierChar = /[\p{L}\p{N}_$ ]/u

/** A position in one piece of text, able to say where parsing failed. */
class Scanner {
  pos: number
  constructor(
    readonly text: string,
    readonly what: string,
    start = 0,
  ) {
    this.pos = start
  }

  get done(): boolean {
    return this.pos >= this.text.length
  }

  peek(offset = 0): string {
    return this.text[this.pos + offset] ?? ''
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos)
  }

  skipSpaces() {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\n') this.pos++
  }

  expect(s: string, expecting = `"${s}"`) {
    if (!this.startsWith(s)) this.fail(expecting)
    this.pos += s.length
  }

  fail(expecting: string, at = this.pos): never {
    const unexpected = at >= this.text.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(clip(this.text.slice(at, at + 12), 12))}`
    throw invalid(`failed to parse ${this.what} (${clip(this.text)}) at column ${at + 1}: ${unexpected} expecting ${expecting}`)
  }

  /** `"…"` with backslash escapes; the caller is at the opening quote. Returns null when there is no closing quote. */
  quoted(): string | null {
    let out = ''
    for (let i = this.pos + 1; i < this.text.length; i++) {
      const ch = this.text[i]
      if (ch === '\\') {
        if (i + 1 >= this.text.length) return null
        out += this.text[++i]
      } else if (ch === '"') {
        this.pos = i + 1
        return out
      } else {
        out += ch
      }
    }
    return null
  }
}

// ---------------------------------------------------------------------------------------------------------
// Fields and JSON paths

/** A column name: quoted, or runs of letters, digits, `_`, `$` and spaces joined by single dashes. */
function readName(sc: Scanner): string | null {
  if (sc.peek() === '"') {
    const start = sc.pos
    const name = sc.quoted()
    if (name === null) sc.fail('a closing double quote', start)
    return name
  }
  const start = sc.pos
  while (!sc.done) {
    if (identifierChar.test(sc.peek())) sc.pos++
    else if (sc.peek() === '-' && sc.peek(1) !== '>' && sc.pos > start && identifierChar.test(sc.peek(1))) sc.pos++
    else break
  }
  const name = sc.text.slice(start, sc.pos).trim()
  return name === '' ? null : name
}

const pathKeyStop = new Set(['(', ')', ':', '.', ',', '>', '-'])

function readPathStep(sc: Scanner): PathStep {
  const text = sc.startsWith('->>')
  sc.pos += text ? 3 : 2
  const start = sc.pos
  if (sc.peek() === '"') {
    const key = sc.quoted()
    if (key === null) sc.fail('a closing double quote', start)
    return { key, text }
  }
  const index = /^-?\d+/.exec(sc.text.slice(sc.pos))
  if (index) {
    const after = sc.text.slice(sc.pos + index[0].length)
    if (after === '' || after.startsWith('->') || after.startsWith('::') || after.startsWith('.') || after.startsWith(',') || after.startsWith(')')) {
      sc.pos += index[0].length
      return { key: Number(index[0]), text }
    }
  }
  while (!sc.done && (!pathKeyStop.has(sc.peek()) || (sc.peek() === '-' && sc.peek(1) !== '>' && sc.pos > start))) sc.pos++
  if (sc.pos === start) sc.fail('a JSON key or array index after the arrow')
  return { key: sc.text.slice(start, sc.pos), text }
}

function readField(sc: Scanner): Field {
  const start = sc.pos
  const name = readName(sc)
  if (name === null) sc.fail('a column name', start)
  const path: PathStep[] = []
  while (sc.startsWith('->')) {
    if (path.at(-1)?.text) sc.fail('the end of the JSON path: ->> gives text, and only ->> may end a path')
    path.push(readPathStep(sc))
  }
  return { name, path }
}

/** A whole text as one field (`distinct=meta->>source`). */
export function parseField(text: string, what: string): Field {
  const sc: Scanner = new Scanner(text, what)
  const field = readField(sc)
  if (!sc.done) sc.fail('the end of the field')
  return field
}

/** `columns=` / `on_conflict=`: column names separated by commas, quoted names allowed. */
export function parseColumnList(text: string, what: string): string[] {
  const sc: Scanner = new Scanner(text, what)
  const names: string[] = []
  do {
    sc.skipSpaces()
    const name = readName(sc)
    if (name === null) sc.fail('a column name')
    names.push(name)
    sc.skipSpaces()
  } while (!sc.done && (sc.expect(',', '"," or the end'), true))
  return names
}

// ---------------------------------------------------------------------------------------------------------
// Values

/** A PostgreSQL array literal `{a,"b,c",NULL}`, one dimension. */
export function parseArrayLiteral(text: string): ArrayElement[] {
  const sc: Scanner = new Scanner(text, 'array literal')
  sc.skipSpaces()
  sc.expect('{', '"{" opening an array such as {a,b}')
  sc.skipSpaces()
  const elements: ArrayElement[] = []
  if (sc.peek() === '}') {
    sc.pos++
  } else {
    for (;;) {
      sc.skipSpaces()
      if (sc.peek() === '{') sc.fail('an element (nested arrays are not supported)')
      if (sc.peek() === '"') {
        const start = sc.pos
        const value = sc.quoted()
        if (value === null) sc.fail('a closing double quote', start)
        elements.push({ text: value, quoted: true })
      } else {
        let raw = ''
        while (!sc.done && sc.peek() !== ',' && sc.peek() !== '}') {
          if (sc.peek() === '{' || sc.peek() === '"') sc.fail('"," or "}"')
          if (sc.peek() === '\\' && sc.pos + 1 < sc.text.length) sc.pos++
          raw += sc.text[sc.pos++]
        }
        const value = raw.trim()
        if (value === '') sc.fail('an element')
        elements.push({ text: /^null$/i.test(value) ? null : value, quoted: false })
      }
      if (elements.length > queryLimits.maxListItems) throw invalid(`An array literal may hold at most ${queryLimits.maxListItems} elements.`)
      sc.skipSpaces()
      if (sc.peek() === ',') {
        sc.pos++
        continue
      }
      sc.expect('}', '"," or "}"')
      break
    }
  }
  sc.skipSpaces()
  if (!sc.done) sc.fail('the end of the array literal')
  return elements
}

/** Inside trees and lists: a quoted value (closing quote followed by `,` or `)`), else raw text up to `,` or `)`. */
function readListValue(sc: Scanner): string {
  if (sc.peek() === '"') {
    const start = sc.pos
    const value = sc.quoted()
    if (value !== null && (sc.peek() === ',' || sc.peek() === ')')) return value
    sc.pos = start
  }
  const start = sc.pos
  while (!sc.done && sc.peek() !== ',' && sc.peek() !== ')') sc.pos++
  return sc.text.slice(start, sc.pos)
}

/** Inside trees: a `{…}` array literal may hold commas. */
function readTreeValue(sc: Scanner): string {
  if (sc.peek() === '{') {
    const end = sc.text.indexOf('}', sc.pos)
    if (end < 0) sc.fail('"}" closing the array')
    const value = sc.text.slice(sc.pos, end + 1)
    sc.pos = end + 1
    return value
  }
  return readListValue(sc)
}

function readInList(sc: Scanner): string[] {
  sc.expect('(', '"(" opening the list, as in in.(a,b)')
  const items: string[] = []
  while (sc.peek() !== ')') {
    items.push(readListValue(sc))
    if (items.length > queryLimits.maxListItems) throw invalid(`An in.(…) list may hold at most ${queryLimits.maxListItems} items.`)
    if (sc.peek() === ',') sc.pos++
    else if (sc.peek() !== ')') sc.fail('"," or ")"')
  }
  sc.pos++
  // `in.()`, `in.(   )` and `in.("")` are the empty list.
  return items.length === 1 && items[0].trim() === '' ? [] : items
}

// ---------------------------------------------------------------------------------------------------------
// Filters and trees

const operatorList = 'operator (eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, in, is, isdistinct, fts, plfts, phfts, wfts, cs, cd, ov, sl, sr, nxr, nxl, adj)'

/** `[not.]op[(modifier)].value`. At the top level the value is the rest of the text; in a tree it ends at `,`/`)`. */
function readOperation(sc: Scanner, inTree: boolean): { negated: boolean; operation: Operation } {
  let negated = false
  if (sc.startsWith('not.')) {
    negated = true
    sc.pos += 4
  }
  const start = sc.pos
  const op = /^[a-z]*/.exec(sc.text.slice(sc.pos))![0]
  if (!operators.includes(op)) sc.fail(negated ? operatorList : `"not" or ${operatorList}`, start)
  sc.pos += op.length
  const rest = () => {
    if (inTree) return readTreeValue(sc)
    const value = sc.text.slice(sc.pos)
    sc.pos = sc.text.length
    return value
  }

  let quantifier: 'any' | 'all' | null = null
  let config: string | null = null
  if ((quantifiable as readonly string[]).includes(op) && (sc.startsWith('(any)') || sc.startsWith('(all)'))) {
    quantifier = sc.startsWith('(any)') ? 'any' : 'all'
    sc.pos += 5
  } else if ((ftsOperators as readonly string[]).includes(op) && sc.peek() === '(') {
    const match = /^\(([\p{L}\p{N}_$ ]+)\)/u.exec(sc.text.slice(sc.pos))
    if (!match) sc.fail('a text search configuration such as (english)', sc.pos + 1)
    config = match[1].trim()
    sc.pos += match[0].length
  }
  sc.expect('.', `"." and a value after "${op}"`)

  if (op === 'in') return { negated, operation: { op, values: readInList(sc) } }
  if (op === 'is') {
    const at = sc.pos
    const value = (inTree ? readListValue(sc) : rest()).toLowerCase()
    if (!(isValues as readonly string[]).includes(value)) sc.fail('null, not_null, true, false or unknown', at)
    return { negated, operation: { op, value: value as IsValue } }
  }
  if (quantifier) {
    const at = sc.pos
    const value = rest()
    try {
      return { negated, operation: { op: op as QuantifiableOperator, quantifier, values: parseArrayLiteral(value) } }
    } catch (error) {
      if (error instanceof ApiError) sc.fail(`an array literal such as {a,b} after ${op}(${quantifier}) (${error.message})`, at)
      throw error
    }
  }
  if (config !== null || (ftsOperators as readonly string[]).includes(op)) return { negated, operation: { op: op as FtsOperator, config, value: rest() } }
  return { negated, operation: { op: op as Exclude<Operation['op'], 'in' | 'is' | FtsOperator>, value: rest() } as Operation }
}

interface Budget {
  conditions: number
}

function countCondition(budget: Budget) {
  if (++budget.conditions > queryLimits.maxConditions) throw invalid(`A query may hold at most ${queryLimits.maxConditions} conditions.`)
}

/** `(tree, tree, …)`: conditions and nested `[not.]and(…)`/`[not.]or(…)`, bounded in depth. */
function readTreeList(sc: Scanner, depth: number, budget: Budget): Filter[] {
  if (depth > queryLimits.maxDepth) throw invalid(`Logic trees may nest at most ${queryLimits.maxDepth} levels deep.`)
  sc.expect('(', '"(" opening the list of conditions')
  const children: Filter[] = []
  do {
    sc.skipSpaces()
    children.push(readTree(sc, depth, budget))
    sc.skipSpaces()
  } while (sc.peek() === ',' && ++sc.pos)
  sc.expect(')', '"," or ")"')
  return children
}

function readTree(sc: Scanner, depth: number, budget: Budget): Filter {
  const nested = /^(not\.)?(and|or)[ \t]*\(/.exec(sc.text.slice(sc.pos, sc.pos + 12))
  if (nested) {
    sc.pos += nested[0].length - 1
    return { type: nested[2] as 'and' | 'or', negated: Boolean(nested[1]), children: readTreeList(sc, depth + 1, budget) }
  }
  if (sc.peek() === ')' || sc.peek() === ',' || sc.done) sc.fail('a condition such as "age.gt.18" or a nested and(…)/or(…)')
  countCondition(budget)
  const field = readField(sc)
  sc.expect('.', '"." and an operator after the field')
  const { negated, operation } = readOperation(sc, true)
  return { type: 'condition', field, negated, operation }
}

function parseTree(key: string, value: string, budget: Budget): Filter {
  const negated = key.startsWith('not.')
  const type = (negated ? key.slice(4) : key) as 'and' | 'or'
  const sc: Scanner = new Scanner(type + value, 'logic tree', type.length)
  const children = readTreeList(sc, 1, budget)
  if (!sc.done) sc.fail('the end of the logic tree')
  return { type, negated, children }
}

function parseFilter(key: string, value: string, budget: Budget): Filter {
  const keyScanner: Scanner = new Scanner(key, 'filter')
  const field = readField(keyScanner)
  if (keyScanner.peek() === '.') {
    throw invalid(
      `"${clip(key, 60)}": resource embedding is not supported (datasets have no relations); ` +
        'a column whose name holds a dot must be double-quoted, as in "a.b"=eq.1.',
    )
  }
  if (!keyScanner.done) keyScanner.fail('an operator after "=", as in age=gt.18')
  countCondition(budget)
  const sc: Scanner = new Scanner(value, 'filter')
  const { negated, operation } = readOperation(sc, false)
  if (!sc.done) sc.fail('the end of the filter')
  return { type: 'condition', field, negated, operation }
}

// ---------------------------------------------------------------------------------------------------------
// select, order, limit/offset

const unsupportedSelect = 'aggregates, embedded resources and spreads are not supported on datasets (they have no relations)'

function parseSelect(text: string): SelectItem[] | null {
  if (text.trim() === '') return null
  const sc: Scanner = new Scanner(text, 'select parameter')
  const items: SelectItem[] = []
  do {
    sc.skipSpaces()
    if (sc.peek() === '*') {
      sc.pos++
      items.push({ type: 'star' })
    } else {
      if (sc.startsWith('...')) sc.fail(`a column (${unsupportedSelect})`)
      let alias: string | null = null
      const start = sc.pos
      const name = readName(sc)
      if (name !== null && sc.peek() === ':' && sc.peek(1) !== ':') {
        alias = name
        sc.pos++
        sc.skipSpaces()
      } else {
        sc.pos = start
      }
      const field = readField(sc)
      if (sc.peek() === '(' || sc.peek() === '!') sc.fail(`"," or the end (${unsupportedSelect})`)
      let cast: string | null = null
      if (sc.startsWith('::')) {
        sc.pos += 2
        const match = /^[\p{L}\p{N}_ ]+/u.exec(sc.text.slice(sc.pos))
        if (!match) sc.fail('a type name after "::"')
        cast = match[0].trim().toLowerCase()
        sc.pos += match[0].length
      }
      if (sc.peek() === '.') sc.fail(`"," or the end (${unsupportedSelect})`)
      items.push({ type: 'field', field, alias, cast, key: alias ?? outputKey(field) })
    }
    if (items.length > queryLimits.maxSelectItems) throw invalid(`select may name at most ${queryLimits.maxSelectItems} items.`)
    sc.skipSpaces()
  } while (!sc.done && (sc.expect(',', '"," or the end'), true))
  return items
}

/** PostgREST's name for an unaliased item: the last object key of its JSON path, else the column. */
function outputKey(field: Field): string {
  for (let i = field.path.length - 1; i >= 0; i--) {
    const key = field.path[i].key
    if (typeof key === 'string') return key
  }
  return field.name
}

function parseOrder(text: string): OrderTerm[] {
  const sc: Scanner = new Scanner(text, 'order')
  const terms: OrderTerm[] = []
  do {
    sc.skipSpaces()
    const field = readField(sc)
    if (sc.peek() === '(') sc.fail('".asc", ".desc", ".nullsfirst", ".nullslast", "," or the end (ordering by an embedded resource is not supported)')
    let direction: OrderTerm['direction'] = null
    let nulls: OrderTerm['nulls'] = null
    while (sc.peek() === '.') {
      const at = sc.pos + 1
      const word = /^[a-z]*/.exec(sc.text.slice(at))![0]
      if ((word === 'asc' || word === 'desc') && direction === null && nulls === null) direction = word
      else if ((word === 'nullsfirst' || word === 'nullslast') && nulls === null) nulls = word === 'nullsfirst' ? 'first' : 'last'
      else sc.fail(nulls !== null ? '"," or the end' : direction !== null ? '"nullsfirst", "nullslast", "," or the end' : '"asc", "desc", "nullsfirst" or "nullslast"', at)
      sc.pos = at + word.length
    }
    terms.push({ field, direction, nulls })
    if (terms.length > queryLimits.maxOrderTerms) throw invalid(`order may name at most ${queryLimits.maxOrderTerms} terms.`)
    sc.skipSpaces()
  } while (!sc.done && (sc.expect(',', '"." and a direction, "," or the end'), true))
  return terms
}

function parseInteger(name: string, value: string): number {
  const text = value.trim()
  if (!/^-?\d+$/.test(text)) throw invalid(`${name} must be an integer, got "${clip(value, 40)}".`)
  if (text.replace('-', '').length > 15) throw invalid(`${name} is too large: "${clip(value, 40)}".`)
  return Number(text)
}

// ---------------------------------------------------------------------------------------------------------
// The query string

function decode(part: string, raw: string): string {
  let text: string
  try {
    text = decodeURIComponent(part.replaceAll('+', ' '))
  } catch {
    throw invalid(`The query string holds a malformed percent-escape or invalid UTF-8 in "${clip(raw, 80)}".`)
  }
  if (text.includes('\u0000')) throw invalid(`The query parameter "${clip(raw, 80)}" contains a NUL character (%00).`)
  return text
}

/** Parses a raw query string (without the leading `?`) into filters, trees, select, order and the page. */
export function parseQueryString(rawQuery: string, options: ParseOptions = {}): ParsedQuery {
  if (rawQuery.length > queryLimits.maxQueryBytes) {
    throw invalid(`The query string is ${rawQuery.length} bytes long; at most ${queryLimits.maxQueryBytes} are allowed.`)
  }
  const surfaceParams = options.params ?? []
  const budget: Budget = { conditions: 0 }
  const parsed: ParsedQuery = { select: null, filters: [], order: [], limit: null, offset: null, params: {} }
  let select: string | undefined
  let order: string | undefined
  let limit: string | undefined
  let offset: string | undefined

  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const key = decode(part.slice(0, eq), part)
    const value = decode(part.slice(eq + 1), part)
    if (key === '') continue
    if (key === 'select') select ??= value
    else if (key === 'order') order ??= value
    else if (key === 'limit') limit = value
    else if (key === 'offset') offset = value
    else if (surfaceParams.includes(key)) parsed.params[key] ??= value
    else if (key === 'and' || key === 'or' || key === 'not.and' || key === 'not.or') parsed.filters.push(parseTree(key, value, budget))
    else parsed.filters.push(parseFilter(key, value, budget))
  }

  if (select !== undefined) parsed.select = parseSelect(select)
  if (order !== undefined && order.trim() !== '') parsed.order = parseOrder(order)
  if (limit !== undefined) parsed.limit = parseInteger('limit', limit)
  if (offset !== undefined) parsed.offset = parseInteger('offset', offset)
  return parsed
}
