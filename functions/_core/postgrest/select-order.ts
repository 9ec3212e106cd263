// Select and order: the JSON each row is answered as (`select`, with renames, JSON paths and casts from a
// whitelist) and the ORDER BY of `order`.
import type { OrderTerm, SelectItem } from './ast.ts'
import {
  canonicalTimestampText,
  columnRef,
  fieldLabel,
  invalid,
  jsonExpr,
  kindOf,
  outputExpr,
  resolve,
  textExpr,
  valueExpr,
  type RowShape,
} from './fields.ts'
import type { Params } from './params.ts'

export function compileOrder(shape: RowShape, order: readonly OrderTerm[], p: Params): string {
  const terms = order.map((term) => {
    const t = resolve(shape, term.field)
    const kind = kindOf(t)
    // Untyped values sort as JSON: numbers numerically, strings as text; a JSON null sorts as a missing key.
    const expr = kind === 'dynamic' || kind === 'json' ? jsonExpr(t, p) : valueExpr(t, kind, p)
    return `${expr}${term.direction ? ` ${term.direction}` : ''}${term.nulls ? ` nulls ${term.nulls}` : ''}`
  })
  // Insertion order breaks ties, so paging through equal values is stable.
  return [...terms, 't._seq'].join(', ')
}

// A Map, not an object literal: a name such as "constructor" or "__proto__" must not find anything.
const casts = new Map<string, string>([
  ['text', 'text'],
  ['int', 'integer'],
  ['integer', 'integer'],
  ['int4', 'integer'],
  ['bigint', 'bigint'],
  ['int8', 'bigint'],
  ['smallint', 'smallint'],
  ['int2', 'smallint'],
  ['numeric', 'numeric'],
  ['decimal', 'numeric'],
  ['real', 'real'],
  ['float4', 'real'],
  ['float', 'double precision'],
  ['float8', 'double precision'],
  ['double precision', 'double precision'],
  ['bool', 'boolean'],
  ['boolean', 'boolean'],
  ['json', 'json'],
  ['jsonb', 'jsonb'],
  ['date', 'date'],
  ['timestamp', 'timestamp'],
  ['timestamptz', 'timestamptz'],
  ['uuid', 'uuid'],
])

// jsonb_build_object takes at most 100 arguments: the declared columns go in groups.
const pairsPerCall = 45

/** The whole row: its undeclared keys, id, the declared columns (null when unset) and the timestamps. */
function starExpr(shape: RowShape, p: Params): string {
  const pairs = [
    "'id', t.id",
    ...shape.columns.map((c) => {
      const value = c.type === 'timestamp' ? canonicalTimestampText(columnRef(c)) : columnRef(c)
      return `${p.add(c.name, 'text')}, ${value}`
    }),
    "'created_at', t.created_at",
    "'updated_at', t.updated_at",
  ]
  const calls: string[] = []
  for (let i = 0; i < pairs.length; i += pairsPerCall) calls.push(`jsonb_build_object(${pairs.slice(i, i + pairsPerCall).join(', ')})`)
  return `(t._extras || ${calls.join(' || ')})`
}

function selectValue(shape: RowShape, item: Extract<SelectItem, { type: 'field' }>, p: Params): string {
  const t = resolve(shape, item.field)
  if (item.cast === null) return outputExpr(t, p, item.field.path.at(-1)?.text ?? false)
  const type = casts.get(item.cast)
  if (!type) throw invalid(`Unknown cast "::${item.cast}" on "${fieldLabel(item.field)}"; use one of: ${[...casts.keys()].join(', ')}.`)
  p.suspect('cast', `the select of "${fieldLabel(item.field)}"::${item.cast}`)
  if (type === 'json' || type === 'jsonb') return t.system ? `to_jsonb(t.${t.system})` : `(${textExpr(t, p)})::${type}`
  // Cast from the value's own type where it has one, so that 2.5::int is 3 (numeric rounds half away from
  // zero) and not an error.
  const kind = kindOf(t)
  const source =
    kind === 'number' ? `(${textExpr(t, p)})::numeric` : kind === 'boolean' || t.system ? valueExpr(t, kind, p) : textExpr(t, p)
  return `(${source})::${type}`
}

/** Output keys of a select, in order; `*` lists id, the declared columns and the timestamps. */
export function selectedColumns(shape: RowShape, select: readonly SelectItem[] | null): string[] {
  const star = ['id', ...shape.columns.map((c) => c.name), 'created_at', 'updated_at']
  if (!select) return star
  return [...new Set(select.flatMap((item) => (item.type === 'star' ? star : [item.key])))]
}

/** One JSON value per row, shaped by `select`. */
export function compileSelect(shape: RowShape, select: readonly SelectItem[] | null, p: Params): string {
  if (!select || select.every((item) => item.type === 'star')) return starExpr(shape, p)
  const fields = select.filter((item): item is Extract<SelectItem, { type: 'field' }> => item.type === 'field')
  // json_build_object keeps the order asked for; it takes at most 100 arguments.
  if (fields.length > 50) throw invalid(`select names ${fields.length} fields; at most 50 are allowed.`)
  const pairs = fields.map((item) => `${p.add(item.key, 'text')}, ${selectValue(shape, item, p)}`)
  if (select.some((item) => item.type === 'star')) return `(${starExpr(shape, p)} || jsonb_build_object(${pairs.join(', ')}))`
  return `json_build_object(${pairs.join(', ')})`
}
