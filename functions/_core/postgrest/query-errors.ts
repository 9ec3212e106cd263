// What PostgreSQL says about a compiled statement that the request itself caused, in our words: its own text
// never reaches the client. The compiler notes, as it writes each part of a statement, which errors that part
// can raise on hostile input (a LIKE pattern, a regular expression, a cast, a literal PostgreSQL converts), so
// an error names the part at fault when exactly one part could have raised it, and "the query" otherwise.
import { ApiError } from '../errors.ts'

/** A kind of input that PostgreSQL converts or interprets, and so may refuse. */
export type Fault = 'like' | 'regex' | 'tsquery' | 'tsconfig' | 'literal' | 'cast' | 'data'

/** A part of a statement that can raise `fault`'s errors, named for a message (`the filter on "name"`). */
export interface Suspect {
  fault: Fault
  where: string
}

// SQLSTATEs each kind of input can raise; an entry shorter than five characters is a class prefix.
const raisedBy: Record<Fault, readonly string[]> = {
  like: ['22025', '22019'],
  regex: ['2201B'],
  tsquery: ['42601'],
  tsconfig: ['42704'],
  // Numbers and JSON that PostgreSQL reads in its own grammar, which differs from JavaScript's at the edges.
  literal: ['22P02', '22P05', '22003', '2203'],
  cast: ['22P02', '22P05', '22003', '22007', '22008', '22009', '22015', '22018', '2203', '42846'],
  // Row data sent in a write's body.
  data: ['22P02', '22P05', '22021', '22003', '2203', '54000'],
}

/** A LIKE pattern ending in its escape character: the compiler refuses it before PostgreSQL would. */
export function likeEscapeProblem(where: string): string {
  return `Invalid escape in the LIKE pattern of ${where}: "\\" escapes the character after it, so a pattern cannot end with one (write "\\\\" for a backslash).`
}

const matches = (code: string, entries: readonly string[]) => entries.some((entry) => code.startsWith(entry))

// What went wrong, by SQLSTATE, first match wins; `where` is the part at fault.
const problems: [readonly string[], (where: string) => string][] = [
  [['22025', '22019'], likeEscapeProblem],
  [['2201B'], (w) => `Invalid regular expression in ${w} (match and imatch take POSIX regular expressions).`],
  [['42601'], (w) => `Invalid tsquery syntax in ${w} (use plfts or wfts for plain words).`],
  [['42704'], (w) => `Unknown text search configuration in ${w}: use a configuration such as english or simple.`],
  [['22003'], (w) => `A number in ${w} is out of range.`],
  [['22007', '22008', '22009', '22015'], (w) => `Invalid or out-of-range date or time in ${w}.`],
  [['22P05', '22021'], (w) => `A text value in ${w} holds a character that cannot be stored (such as \\u0000).`],
  [['2203'], (w) => `Invalid JSON in ${w}.`],
  [['22P02', '22018'], (w) => `A value in ${w} cannot be read as the type it is compared or cast to (for example "abc"::integer).`],
  [['42846'], (w) => `${capital(w)} casts between types that do not convert (for example a boolean to a number).`],
  [['22'], (w) => `Invalid value in ${w}.`],
  [['54'], (w) => `The database refused ${w} as too large or too complex: simplify it.`],
  [['42P18'], (w) => `The type of a value in ${w} cannot be determined.`],
]

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/**
 * The request's fault in `error`, raised by a statement with these suspects, as an ApiError: `invalid_query`
 * when the query is at fault, `validation_failed` when only the data sent can be; null when it is not the
 * request's fault (rethrow it as it is).
 */
export function queryErrorFrom(error: unknown, suspects: readonly Suspect[] = []): ApiError | null {
  const e = error as { code?: string; name?: string }
  if (e?.name !== 'PostgresError' || typeof e.code !== 'string') return null
  const code = e.code
  switch (code) {
    case '57014':
      return new ApiError('invalid_query', 'The query took too long and was cancelled: narrow it with filters on declared columns, or a smaller page.')
    case '23505':
      return new ApiError('conflict', 'A row with the same id already exists in this dataset.')
    case '21000':
      return new ApiError('validation_failed', 'The same row id appears more than once in one write.')
    case 'P0002':
      // Raised by the row trigger when the dataset is gone (deleted while this request ran).
      return new ApiError('not_found', 'Dataset not found.')
  }
  const problem = problems.find(([codes]) => matches(code, codes))
  if (!problem) return null
  const at = suspects.filter((s) => matches(code, raisedBy[s.fault]))
  // Outside the data exceptions and program limits, an error no part of the request could raise is ours.
  if (at.length === 0 && !matches(code, ['22', '54', '42P18'])) return null
  const places = [...new Set(at.map((s) => s.where))]
  const onlyData = at.length > 0 && at.every((s) => s.fault === 'data')
  const where = places.length === 1 ? places[0] : at.some((s) => s.fault === 'data') ? 'the request' : 'the query'
  if (onlyData && code === '54000') {
    // In a write, the limit met is an index's: a declared text column's values are indexed.
    return new ApiError('validation_failed', `A value in ${where} is too large to index: a declared text column's values must stay under about 2,700 bytes.`)
  }
  return new ApiError(onlyData ? 'validation_failed' : 'invalid_query', problem[1](where))
}
