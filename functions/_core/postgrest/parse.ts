// Turns a PostgREST-style query string into the tree of ast.ts. One hand-written recursive-descent parser over a
// cursor; recursion happens only for nested and(...)/or(...), and a depth counter bounds it. Every error is an
// `invalid_query` that names the parameter, quotes the text and gives the column, as PostgREST does.

import { clip } from '../clip.ts'
import { ApiError } from '../errors.ts'
import type {
  ArrayElement,
  ContainmentOperator,
  Field,
  Filter,
  FtsOperator,
  IsValue,
  LogicTree,
  Operation,
  OrderTerm,
  ParsedQuery,
  PathStep,
  QuantifiableOperator,
  RangeOperator,
  SelectItem,
  SimpleOperator,
} from './ast.ts'

export interface ParseOptions {
  /**
   * Parameter names this surface reserves besides select/order/limit/offset/and/or (e.g. ['search','distinct'] or
   * ['columns','on_conflict']); returned raw in ParsedQuery.params (first occurrence wins).
   */
  params?: readonly string[]
}

export const queryLimits = {
  maxQueryBytes: 16384,
  maxDepth: 16,
  maxConditions: 200,
  maxListItems: 1000,
  maxSelectItems: 100,
  maxOrderTerms: 16,
} as const

/**
 * The header size (request line included) a Node server of the app must accept: well above the longest query
 * string the app answers itself, so that a query over maxQueryBytes gets the app's JSON error and not Node's bare
 * 431 (whose default limit, 16 KiB, is the query limit itself).
 */
export const maxRequestHeaderBytes = 4 * queryLimits.maxQueryBytes

// ---------------------------------------------------------------------------------------------------------------
// Entry points

/** Parses a raw query string (without the leading `?`, possibly empty). */
export function parseQueryString(rawQuery: string, options: ParseOptions = {}): ParsedQuery {
  if (rawQuery.length > queryLimits.maxQueryBytes) {
    throw invalid(`the query string is ${rawQuery.length} characters long; the limit is ${queryLimits.maxQueryBytes}`)
  }
  const surfaceParams = new Set(options.params ?? [])
  const query: ParsedQuery = { select: null, filters: [], order: [], limit: null, offset: null, params: {} }
  const budget = new ConditionBudget()
  let selectSeen = false
  let orderSeen = false

  for (const [key, value] of decodeParameters(rawQuery)) {
    switch (key) {
      case 'select':
        // PostgREST looks the parameter up in a list: the first one wins and later ones are never read.
        if (!selectSeen) query.select = parseSelect(value)
        selectSeen = true
        break
      case 'order':
        if (!orderSeen) query.order = parseOrder(value)
        orderSeen = true
        break
      case 'limit':
        query.limit = parseInteger('limit', value)
        break
      case 'offset':
        query.offset = parseInteger('offset', value)
        break
      case 'and':
      case 'or':
      case 'not.and':
      case 'not.or':
        query.filters.push(parseLogicTree(key, value, budget))
        break
      default:
        if (surfaceParams.has(key)) {
          if (!(key in query.params)) query.params[key] = value
        } else {
          query.filters.push(parseFilter(key, value, budget))
        }
    }
  }
  return query
}

/** A single field with an optional JSON path, e.g. for `distinct=meta->>source`; `what` names the parameter. */
export function parseField(text: string, what: string): Field {
  const c = new Cursor(text, parameterLabel(what))
  c.skipSpaces()
  const field = parseFieldAt(c)
  c.skipSpaces()
  if (!c.done) c.fail(c.unexpected('"->", "->>" or the end of the field'))
  return field
}

/** Comma-separated column names for `columns=` / `on_conflict=`; quoted names allowed (`"a,b"`), at least one. */
export function parseColumnList(text: string, what: string): string[] {
  const c = new Cursor(text, parameterLabel(what))
  const names: string[] = []
  for (;;) {
    c.skipSpaces()
    if (!c.startsName()) c.fail(c.unexpected('a column name'))
    names.push(parseName(c, 'column name'))
    c.skipSpaces()
    if (c.done) return names
    if (c.peek() !== ',') c.fail(c.unexpected('"," or the end of the list'))
    c.pos++
  }
}

/** A one-dimensional PostgreSQL array literal: `{a,"b,c",NULL}`. */
export function parseArrayLiteral(text: string): ArrayElement[] {
  const c = new Cursor(text, 'array literal')
  c.skipSpaces()
  if (c.peek() !== '{') c.fail(c.unexpected('"{" to open the array literal'))
  const elements = parseArrayElements(c)
  c.skipSpaces()
  if (!c.done) c.fail(c.unexpected('the end of the array literal after "}"'))
  return elements
}

// ---------------------------------------------------------------------------------------------------------------
// The query string itself

function decodeParameters(rawQuery: string): [string, string][] {
  const pairs: [string, string][] = []
  if (rawQuery === '') return pairs
  for (const part of rawQuery.split('&')) {
    const equals = part.indexOf('=')
    // PostgREST drops a parameter without "=" and one with an empty name.
    if (equals <= 0) continue
    const rawKey = part.slice(0, equals)
    const key = decodeComponent(rawKey, rawKey)
    pairs.push([key, decodeComponent(part.slice(equals + 1), key)])
  }
  return pairs
}

/** `+` is a space, then exactly one round of percent-decoding: `%2522` stays `%22`. */
function decodeComponent(text: string, parameter: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(text.replaceAll('+', ' '))
  } catch {
    throw invalid(`the query parameter "${clip(parameter, 60)}" has a malformed percent-escape or is not valid UTF-8`)
  }
  // Postgres text cannot hold U+0000; say so here instead of failing later with an encoding error.
  if (decoded.includes('\u0000')) throw invalid(`the query parameter "${clip(parameter, 60)}" contains a NUL character`)
  return decoded
}

function parseInteger(name: 'limit' | 'offset', value: string): number {
  if (!/^-?\d+$/.test(value)) throw invalid(`${name} must be an integer, got "${clip(value)}"`)
  if (value.replace('-', '').length > 15) throw invalid(`${name} is too large: at most 15 digits, got "${clip(value)}"`)
  return Number(value) + 0 // `+ 0` turns -0 into 0
}

/** Counts conditions across all filters and trees of one query. */
class ConditionBudget {
  private used = 0
  take(c: Cursor): void {
    this.used++
    if (this.used > queryLimits.maxConditions) {
      c.fail(`a query may hold at most ${queryLimits.maxConditions} conditions (filters plus conditions inside and/or trees)`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cursor and error reporting

class Cursor {
  pos = 0

  /** `prefix` is shown before `input` in messages and counted in columns: a logic tree's key (`or` in `or(...)`). */
  constructor(
    readonly input: string,
    private readonly what: string,
    private readonly prefix = '',
  ) {}

  get done(): boolean {
    return this.pos >= this.input.length
  }

  peek(ahead = 0): string {
    return this.input[this.pos + ahead] ?? ''
  }

  at(text: string): boolean {
    return this.input.startsWith(text, this.pos)
  }

  skipSpaces(): void {
    while (!this.done && /\s/.test(this.peek())) this.pos++
  }

  startsName(): boolean {
    return this.peek() === '"' || nameCharLength(this.input, this.pos) > 0
  }

  /** `unexpected "x", expected <expected>`, describing the character at `at`. */
  unexpected(expected: string, at = this.pos): string {
    const found = at >= this.input.length ? 'end of input' : `"${clip(String.fromCodePoint(this.input.codePointAt(at)!))}"`
    return `unexpected ${found}, expected ${expected}`
  }

  fail(detail: string, at = this.pos): never {
    const column = countCodePoints(this.prefix) + countCodePoints(this.input.slice(0, at)) + 1
    throw invalid(`failed to parse ${this.what} (${clip(this.prefix + this.input)}) at column ${column}: ${detail}`)
  }
}

function invalid(message: string): ApiError {
  return new ApiError('invalid_query', message)
}

function parameterLabel(what: string): string {
  return what.endsWith('parameter') ? what : `${what} parameter`
}

function countCodePoints(text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

// ---------------------------------------------------------------------------------------------------------------
// Field names and JSON paths

const nameChar = /^[\p{L}\p{M}\p{Nd}_$ ]$/u

/** Length in UTF-16 units of the name character at `at` (letter, digit, `_`, `$`, space), or 0. */
function nameCharLength(text: string, at: number): number {
  const code = text.codePointAt(at)
  if (code === undefined) return 0
  const ch = String.fromCodePoint(code)
  return nameChar.test(ch) ? ch.length : 0
}

/** `"..."` with backslash escaping any character; null when the closing quote is missing. */
function readQuoted(text: string, start: number): { text: string; end: number } | null {
  let out = ''
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]
    if (ch === '"') return { text: out, end: i + 1 }
    if (ch === '\\') {
      i++
      if (i >= text.length) return null
    }
    out += text[i]
  }
  return null
}

function parseQuotedName(c: Cursor, label: string): string {
  const quoted = readQuoted(c.input, c.pos)
  if (!quoted) c.fail(`the quoted ${label} is never closed: expected a closing '"'`)
  c.pos = quoted.end
  return quoted.text
}

/**
 * A quoted name, or runs of letters, digits, `_`, `$` and spaces joined by single dashes (a dash before `>` starts a
 * JSON arrow instead); each run is trimmed, as PostgREST does.
 */
function parseName(c: Cursor, label: string): string {
  if (c.peek() === '"') return parseQuotedName(c, label)
  const start = c.pos
  const runs: string[] = []
  for (;;) {
    const runStart = c.pos
    for (let n = nameCharLength(c.input, c.pos); n > 0; n = nameCharLength(c.input, c.pos)) c.pos += n
    if (c.pos === runStart) {
      if (runs.length === 0) c.fail(c.unexpected(`a ${label} (letters, digits, "_", "$" and spaces, or a double-quoted name)`))
      c.fail(c.unexpected('a letter, digit, "_", "$" or space after "-"'))
    }
    runs.push(c.input.slice(runStart, c.pos).trim())
    if (c.peek() !== '-' || c.peek(1) === '>') break
    c.pos++
  }
  const name = runs.join('-')
  if (name === '') c.fail(`expected a ${label}, found only spaces`, start)
  return name
}

function parseFieldAt(c: Cursor): Field {
  const name = parseName(c, 'field name')
  return { name, path: parseJsonPath(c) }
}

function parseJsonPath(c: Cursor): PathStep[] {
  const path: PathStep[] = []
  while (c.at('->')) {
    if (path.length > 0 && path[path.length - 1].text) {
      c.fail('"->>" yields text, so it must be the last step of a JSON path')
    }
    const text = c.at('->>')
    c.pos += text ? 3 : 2
    path.push({ key: parseJsonOperand(c), text })
  }
  return path
}

const arrayIndex = /-?\d+/y
const maxArrayIndex = 2147483647 // Postgres binds the index as int

/** An array index when the digits are followed by `->`, `::`, `.`, `,` or the end (PostgREST's rule), else a key. */
function parseJsonOperand(c: Cursor): string | number {
  arrayIndex.lastIndex = c.pos
  const digits = arrayIndex.exec(c.input)
  if (digits) {
    const end = c.pos + digits[0].length
    const next = c.input.slice(end, end + 2)
    if (end === c.input.length || next === '->' || next === '::' || next[0] === '.' || next[0] === ',') {
      const index = Number(digits[0]) + 0
      if (Math.abs(index) > maxArrayIndex) c.fail(`the array index ${clip(digits[0], 40)} is out of range`)
      c.pos = end
      return index
    }
  }
  if (c.peek() === '"') return parseQuotedName(c, 'JSON key')
  // Unquoted keys: runs of anything but ( - : . , > ) joined by single dashes not followed by ">", each run trimmed
  // like a field name's, so `select=data->>name, id` names "name"; a key with surrounding spaces must be quoted.
  const start = c.pos
  const runs: string[] = []
  for (;;) {
    const runStart = c.pos
    while (!c.done && !'(-:.,>)'.includes(c.peek())) c.pos++
    if (c.pos === runStart) c.fail(c.unexpected(c.pos === start ? 'a JSON key or array index' : 'a JSON key character after "-"'))
    runs.push(c.input.slice(runStart, c.pos).trim())
    if (c.peek() !== '-' || c.peek(1) === '>') break
    c.pos++
  }
  const key = runs.join('-')
  if (key === '') c.fail('expected a JSON key, found only spaces (quote a key made of spaces)', start)
  return key
}

// ---------------------------------------------------------------------------------------------------------------
// Filters and operators

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
] as const satisfies readonly (SimpleOperator | ContainmentOperator | RangeOperator)[]
const quantifiableOperators = [
  'eq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
] as const satisfies readonly QuantifiableOperator[]
const ftsOperators = ['fts', 'plfts', 'phfts', 'wfts'] as const satisfies readonly FtsOperator[]
const isValues = ['null', 'not_null', 'true', 'false', 'unknown'] as const satisfies readonly IsValue[]
const operatorList =
  'eq, neq, gt, gte, lt, lte, like, ilike, match, imatch, isdistinct, is, in, cs, cd, ov, sl, sr, nxr, nxl, adj, fts, plfts, phfts, wfts'

function isOneOf<T extends string>(list: readonly T[], text: string): text is T {
  return (list as readonly string[]).includes(text)
}

function parseFilter(key: string, value: string, budget: ConditionBudget): Filter {
  const field = parseFilterKey(key)
  const c = new Cursor(value, 'filter')
  budget.take(c)
  return { type: 'condition', field, ...parseOperation(c, false) }
}

function parseFilterKey(key: string): Field {
  const c = new Cursor(key, 'field')
  c.skipSpaces()
  const field = parseFieldAt(c)
  c.skipSpaces()
  if (c.peek() === '.') {
    c.fail('resource embedding is not supported on datasets; a key containing a dot must be double-quoted, e.g. "a.b"=eq.1')
  }
  if (c.at('::')) c.fail('casts are not allowed in filters')
  if (!c.done) c.fail(c.unexpected('"->", "->>" or the end of the field'))
  return field
}

/**
 * `[not.]operator...` after a field's dot. At top level (`inTree` false) the value is the rest of the parameter,
 * verbatim; inside a tree it ends at the next `,` or `)` unless quoted or a `{...}` literal.
 */
function parseOperation(c: Cursor, inTree: boolean): { negated: boolean; operation: Operation } {
  let negated = false
  if (c.at('not.')) {
    negated = true
    c.pos += 4
    if (c.at('not.')) c.fail('"not." may appear only once before the operator')
  }
  const opStart = c.pos
  while (!c.done && !'.(),'.includes(c.peek())) c.pos++
  const op = c.input.slice(opStart, c.pos)
  if (op === '') c.fail(c.unexpected(`"not." or an operator (${operatorList})`))
  if (op === 'not') c.fail(c.unexpected('"." after "not"'))

  if (op === 'in') {
    expectDot(c, op)
    return { negated, operation: { op, values: parseInList(c, inTree) } }
  }
  if (op === 'is') {
    expectDot(c, op)
    const at = c.pos
    const raw = readValue(c, inTree)
    const value = raw.trim().toLowerCase()
    if (!isOneOf(isValues, value)) c.fail(`unexpected "${clip(raw, 40)}", expected null, not_null, true, false or unknown`, at)
    return { negated, operation: { op, value } }
  }
  if (isOneOf(ftsOperators, op)) {
    const config = parseFtsConfig(c)
    expectDot(c, op)
    return { negated, operation: { op, config, value: readValue(c, inTree) } }
  }
  if (!isOneOf(valueOperators, op)) c.fail(`unknown operator "${clip(op, 40)}"; expected "not." or an operator (${operatorList})`, opStart)

  if (c.peek() === '(') {
    if (!isOneOf(quantifiableOperators, op)) {
      c.fail(`"${op}" takes no (any)/(all) modifier; only eq, gt, gte, lt, lte, like, ilike, match and imatch do`)
    }
    const quantifier = c.at('(any)') ? 'any' : c.at('(all)') ? 'all' : null
    if (!quantifier) c.fail(c.unexpected('"(any)" or "(all)"'))
    c.pos += 5
    expectDot(c, `${op}(${quantifier})`)
    if (c.peek() !== '{') c.fail(c.unexpected(`an array literal such as {1,2} after "${op}(${quantifier})."`))
    const values = parseArrayElements(c)
    if (!inTree) expectEndOfValue(c)
    return { negated, operation: { op, quantifier, values } }
  }
  expectDot(c, op)
  return { negated, operation: { op, value: readValue(c, inTree) } }
}

function expectDot(c: Cursor, after: string): void {
  if (c.peek() !== '.') c.fail(c.unexpected(`"." after "${after}"`))
  c.pos++
}

function expectEndOfValue(c: Cursor): void {
  c.skipSpaces()
  if (!c.done) c.fail(c.unexpected('the end of the filter value'))
}

/** `fts(english).…`: the optional text search configuration in parentheses. */
function parseFtsConfig(c: Cursor): string | null {
  if (c.peek() !== '(') return null
  c.pos++
  const start = c.pos
  for (let n = nameCharLength(c.input, c.pos); n > 0; n = nameCharLength(c.input, c.pos)) c.pos += n
  const config = c.input.slice(start, c.pos).trim()
  if (config === '') c.fail(c.unexpected('a text search configuration such as "english"'))
  if (c.peek() !== ')') c.fail(c.unexpected('")" to close the text search configuration'))
  c.pos++
  return config
}

function readValue(c: Cursor, inTree: boolean): string {
  if (!inTree) {
    const value = c.input.slice(c.pos)
    c.pos = c.input.length
    return value
  }
  const start = c.pos
  if (c.peek() === '"') {
    const quoted = readQuoted(c.input, start)
    if (quoted && closesElement(c.input, quoted.end)) {
      c.pos = quoted.end
      return quoted.text
    }
  }
  if (c.peek() === '{') {
    const end = matchBraces(c.input, start)
    if (end !== null) {
      c.pos = end
      return c.input.slice(start, end)
    }
  }
  return readUpToSeparator(c)
}

/** A quoted string counts as quoted only when its closing quote is followed by `,`, `)` or the end (PostgREST). */
function closesElement(text: string, at: number): boolean {
  return at === text.length || text[at] === ',' || text[at] === ')'
}

function readUpToSeparator(c: Cursor): string {
  const start = c.pos
  while (!c.done && c.peek() !== ',' && c.peek() !== ')') c.pos++
  return c.input.slice(start, c.pos)
}

/**
 * The end (exclusive) of the `{...}` starting at `start`, honouring nested braces and quoted strings, so a JSON
 * object (`cs.{"a":{"b":1}}`) or an array with a quoted `}` stays one value; null when it never closes.
 */
function matchBraces(text: string, start: number): number | null {
  let depth = 0
  for (let i = start; i < text.length; i++) {
    const ch = text[i]
    if (ch === '"') {
      const quoted = readQuoted(text, i)
      if (!quoted) return null
      i = quoted.end - 1
    } else if (ch === '{') {
      depth++
    } else if (ch === '}') {
      depth--
      if (depth === 0) return i + 1
    }
  }
  return null
}

/** `(a,"b,c",d)`: spaces after `(` are skipped, all others kept; `()`, `(   )` and `("")` are the empty list. */
function parseInList(c: Cursor, inTree: boolean): string[] {
  if (c.peek() !== '(') c.fail(c.unexpected('"(" to open the list, as in in.(1,2,3)'))
  c.pos++
  c.skipSpaces()
  const items: string[] = []
  for (;;) {
    if (items.length === queryLimits.maxListItems) c.fail(`an in list may hold at most ${queryLimits.maxListItems} items`)
    items.push(readListItem(c))
    if (c.peek() === ')') break
    if (c.peek() !== ',') c.fail(c.unexpected('"," or ")" to close the list'))
    c.pos++
  }
  c.pos++
  if (!inTree) expectEndOfValue(c)
  return items.length === 1 && items[0] === '' ? [] : items
}

function readListItem(c: Cursor): string {
  if (c.peek() === '"') {
    const quoted = readQuoted(c.input, c.pos)
    if (quoted && closesElement(c.input, quoted.end)) {
      c.pos = quoted.end
      return quoted.text
    }
  }
  return readUpToSeparator(c)
}

/** The elements of `{...}` starting at the cursor's `{`; leaves the cursor after the `}`. */
function parseArrayElements(c: Cursor): ArrayElement[] {
  c.pos++
  c.skipSpaces()
  const elements: ArrayElement[] = []
  if (c.peek() === '}') {
    c.pos++
    return elements
  }
  for (;;) {
    if (elements.length === queryLimits.maxListItems) c.fail(`an array literal may hold at most ${queryLimits.maxListItems} elements`)
    c.skipSpaces()
    elements.push(c.peek() === '"' ? readQuotedElement(c) : readUnquotedElement(c))
    c.skipSpaces()
    if (c.peek() === '}') {
      c.pos++
      return elements
    }
    if (c.peek() !== ',') c.fail(c.unexpected('"," or "}" in the array literal'))
    c.pos++
  }
}

function readQuotedElement(c: Cursor): ArrayElement {
  const quoted = readQuoted(c.input, c.pos)
  if (!quoted) c.fail(`the quoted array element is never closed: expected a closing '"'`)
  c.pos = quoted.end
  return { text: quoted.text, quoted: true }
}

/** As Postgres reads it: backslash escapes, unescaped surrounding whitespace dropped, a bare NULL is null. */
function readUnquotedElement(c: Cursor): ArrayElement {
  let text = ''
  let kept = 0 // length of `text` up to its last character that is not unescaped whitespace
  let escaped = false
  for (;;) {
    const ch = c.peek()
    if (c.done || ch === ',' || ch === '}') break
    if (ch === '{') c.fail('nested arrays are not supported')
    if (ch === '"') c.fail(`unexpected '"' inside an unquoted array element; quote the whole element instead`)
    if (ch === '\\') {
      c.pos++
      if (c.done) c.fail(c.unexpected('a character after "\\"'))
      escaped = true
      text += c.peek()
      kept = text.length
    } else {
      text += ch
      if (!/\s/.test(ch)) kept = text.length
    }
    c.pos++
  }
  text = text.slice(0, kept)
  if (text === '') c.fail(c.unexpected('an array element (write "" for an empty string)'))
  if (!escaped && text.toUpperCase() === 'NULL') return { text: null, quoted: false }
  return { text, quoted: false }
}

// ---------------------------------------------------------------------------------------------------------------
// Logic trees

const nestedTree = /(not\.)?(and|or)\s*\(/y

function parseLogicTree(key: 'and' | 'or' | 'not.and' | 'not.or', value: string, budget: ConditionBudget): LogicTree {
  const c = new Cursor(value, 'logic tree', key)
  if (c.peek() !== '(') c.fail(c.unexpected('"(" to open the list of conditions, as in or=(a.eq.1,b.eq.2)'))
  const children = parseTreeList(c, 1, budget)
  c.skipSpaces()
  // PostgREST ignores what follows the closing parenthesis; we refuse it rather than guess.
  if (!c.done) c.fail(c.unexpected('nothing after the closing ")" of the tree'))
  return { type: key.endsWith('and') ? 'and' : 'or', negated: key.startsWith('not.'), children }
}

/** `(element, element, ...)` from the cursor's `(`; `depth` is this list's nesting level (the top is 1). */
function parseTreeList(c: Cursor, depth: number, budget: ConditionBudget): Filter[] {
  c.pos++
  const children: Filter[] = []
  for (;;) {
    c.skipSpaces()
    children.push(parseTreeElement(c, depth, budget))
    c.skipSpaces()
    if (c.peek() === ')') {
      c.pos++
      return children
    }
    if (c.peek() !== ',') c.fail(c.unexpected('"," or ")"'))
    c.pos++
  }
}

function parseTreeElement(c: Cursor, depth: number, budget: ConditionBudget): Filter {
  nestedTree.lastIndex = c.pos
  const nested = nestedTree.exec(c.input)
  if (nested) {
    if (depth >= queryLimits.maxDepth) c.fail(`logic trees may nest at most ${queryLimits.maxDepth} levels deep`)
    c.pos += nested[0].length - 1
    const type = nested[2] === 'and' ? 'and' : 'or'
    return { type, negated: nested[1] !== undefined, children: parseTreeList(c, depth + 1, budget) }
  }
  if (!c.startsName()) c.fail('expected a condition such as "age.gt.18" or a nested and(...)/or(...)')
  budget.take(c)
  const field = parseFieldAt(c)
  // The first dot ends the field, as in PostgREST: `child.col.eq.1` is field `child` with operator `col`.
  if (c.peek() !== '.') c.fail(c.unexpected('"." between the field and the operator'))
  c.pos++
  return { type: 'condition', field, ...parseOperation(c, true) }
}

// ---------------------------------------------------------------------------------------------------------------
// select and order

const castChars = /[A-Za-z0-9_ ]/
const aggregateCall = /\.(sum|avg|count|max|min)\s*\(/y

function parseSelect(text: string): SelectItem[] | null {
  if (text === '') return null
  const c = new Cursor(text, 'select parameter')
  const items: SelectItem[] = []
  for (;;) {
    c.skipSpaces()
    if (items.length === queryLimits.maxSelectItems) c.fail(`select may list at most ${queryLimits.maxSelectItems} items`)
    items.push(parseSelectItem(c))
    c.skipSpaces()
    if (c.done) return items
    if (c.peek() !== ',') c.fail(c.unexpected('"," or the end of the select list'))
    c.pos++
  }
}

function parseSelectItem(c: Cursor): SelectItem {
  if (c.at('...')) c.fail('spreading an embedded resource (...relation(...)) is not supported on datasets')
  if (c.peek() === '*') {
    c.pos++
    return { type: 'star' }
  }
  if (!c.startsName()) c.fail(c.unexpected('a field name, "*" or alias:field'))
  let alias: string | null = null
  let name = parseName(c, 'field name')
  if (c.peek() === ':' && c.peek(1) !== ':') {
    c.pos++
    alias = name
    if (!c.startsName()) c.fail(c.unexpected(`a field name after the alias "${clip(alias, 40)}:"`))
    name = parseName(c, 'field name')
  }
  const field: Field = { name, path: parseJsonPath(c) }
  if (c.peek() === '(') {
    if (field.path.length === 0 && name === 'count') c.fail('aggregates such as count() are not supported on datasets')
    c.fail('embedding a resource (relation(...)) is not supported on datasets')
  }
  if (c.peek() === '!') c.fail('embedding hints (relation!hint) are not supported on datasets')

  let cast: string | null = null
  if (c.at('::')) {
    c.pos += 2
    const start = c.pos
    while (!c.done && castChars.test(c.peek())) c.pos++
    cast = c.input.slice(start, c.pos).trim().toLowerCase()
    if (cast === '') c.fail(c.unexpected('a type name after "::"'))
  }
  aggregateCall.lastIndex = c.pos
  if (aggregateCall.test(c.input)) c.fail('aggregates such as .sum() are not supported on datasets')
  return { type: 'field', field, alias, cast, key: alias ?? outputKey(field) }
}

/** PostgREST's naming: the last object key of the JSON path (indexes do not name anything), else the field. */
function outputKey(field: Field): string {
  for (let i = field.path.length - 1; i >= 0; i--) {
    const key = field.path[i].key
    if (typeof key === 'string') return key
  }
  return field.name
}

function parseOrder(text: string): OrderTerm[] {
  const c = new Cursor(text, 'order')
  const terms: OrderTerm[] = []
  for (;;) {
    c.skipSpaces()
    if (terms.length === queryLimits.maxOrderTerms) c.fail(`order may list at most ${queryLimits.maxOrderTerms} terms`)
    terms.push(parseOrderTerm(c))
    if (c.done) return terms
    c.pos++ // parseOrderTerm stops only at "," or the end
  }
}

function parseOrderTerm(c: Cursor): OrderTerm {
  const field = parseFieldAt(c)
  if (c.peek() === '(') c.fail('ordering by a column of an embedded resource (relation(column)) is not supported on datasets')
  const term: OrderTerm = { field, direction: null, nulls: null }
  let expected = '".asc", ".desc", ".nullsfirst", ".nullslast", "," or the end of the order'
  if (c.peek() === '.') {
    const word = matchWord(c, ['asc', 'desc', 'nullsfirst', 'nullslast'], '"asc", "desc", "nullsfirst" or "nullslast"')
    if (word === 'asc' || word === 'desc') {
      term.direction = word
      expected = '".nullsfirst", ".nullslast", "," or the end of the order'
      if (c.peek() === '.') {
        term.nulls = matchWord(c, ['nullsfirst', 'nullslast'], '"nullsfirst" or "nullslast"') === 'nullsfirst' ? 'first' : 'last'
        expected = '"," or the end of the order'
      }
    } else {
      term.nulls = word === 'nullsfirst' ? 'first' : 'last'
      expected = '"," or the end of the order'
    }
  }
  c.skipSpaces()
  if (!c.done && c.peek() !== ',') c.fail(c.unexpected(expected))
  return term
}

/** After a ".", the first of `words` the input starts with; like PostgREST, `id.descc` fails after "desc". */
function matchWord<T extends string>(c: Cursor, words: readonly T[], expected: string): T {
  c.pos++
  const word = words.find((w) => c.at(w))
  if (!word) {
    let end = c.pos
    while (end < c.input.length && !'.,'.includes(c.input[end])) end++
    if (end === c.pos) c.fail(c.unexpected(expected))
    c.fail(`unexpected "${clip(c.input.slice(c.pos, end), 40)}", expected ${expected}`)
  }
  c.pos += word.length
  return word
}
