// The typed tree a PostgREST-style query string parses into. The parser (parse.ts) produces it from text;
// the compiler (statements.ts and its parts) turns it into parameterised SQL. Nothing here knows about SQL or HTTP.

/** One step of a JSON path: `->key`, `->>key`, `->0`, `->>-1`. `text` is true for `->>`. */
export interface PathStep {
  key: string | number
  text: boolean
}

/** A top-level key of the row, optionally followed by a JSON path (`meta->tags->>0`). */
export interface Field {
  name: string
  path: PathStep[]
}

export type SimpleOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike' | 'match' | 'imatch' | 'isdistinct'
export type ContainmentOperator = 'cs' | 'cd' | 'ov'
export type RangeOperator = 'sl' | 'sr' | 'nxr' | 'nxl' | 'adj'
/** The operators that take an `(any)` / `(all)` modifier. */
export type QuantifiableOperator = 'eq' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike' | 'match' | 'imatch'
export type FtsOperator = 'fts' | 'plfts' | 'phfts' | 'wfts'
export type IsValue = 'null' | 'not_null' | 'true' | 'false' | 'unknown'

/** An element of a PostgreSQL array literal (`{a,"b,c",NULL}`): `text` is null for an unquoted NULL. */
export interface ArrayElement {
  text: string | null
  quoted: boolean
}

export type Operation =
  /** `value` is the literal exactly as sent (after the operator's dot; unquoted inside trees). */
  | { op: SimpleOperator | ContainmentOperator | RangeOperator; value: string }
  | { op: QuantifiableOperator; quantifier: 'any' | 'all'; values: ArrayElement[] }
  | { op: 'in'; values: string[] }
  | { op: 'is'; value: IsValue }
  | { op: FtsOperator; config: string | null; value: string }

export interface Condition {
  type: 'condition'
  field: Field
  negated: boolean
  operation: Operation
}

export interface LogicTree {
  type: 'and' | 'or'
  negated: boolean
  children: Filter[]
}

export type Filter = Condition | LogicTree

export type SelectItem =
  | { type: 'star' }
  /** `alias:field->path::cast`; `key` is the output key (the alias, else PostgREST's naming rule). */
  | { type: 'field'; field: Field; alias: string | null; cast: string | null; key: string }

export interface OrderTerm {
  field: Field
  direction: 'asc' | 'desc' | null
  nulls: 'first' | 'last' | null
}

export interface ParsedQuery {
  /** Null when `select` is absent or empty (every column). */
  select: SelectItem[] | null
  /** Top-level filters and `and=`/`or=` trees, ANDed together, in the order they were given. */
  filters: Filter[]
  order: OrderTerm[]
  /** Integers as sent (possibly negative): each surface applies its own bounds. */
  limit: number | null
  offset: number | null
  /** The surface's own parameters (e.g. `search`, `distinct`, `columns`, `on_conflict`), raw. */
  params: Record<string, string>
}
