// Every error the API answers with, in one place: the error type and its codes, what zod, PostgreSQL and the
// query engine raise turned into it, and the response a client gets (our envelope, or PostgREST's shape on
// the PostgREST surface).
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export const errorCodes = {
  validation_failed: 400,
  invalid_query: 400,
  invalid_row_id: 400,
  bad_request: 400,
  unauthorized: 401,
  insufficient_scope: 403,
  not_found: 404,
  row_not_found: 404,
  conflict: 409,
  gone: 410,
  upgrade_required: 426,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  too_many_concurrent_requests: 429,
  budget_exceeded: 402,
  internal: 500,
  provider_error: 502,
  service_unavailable: 503,
} as const

export type ErrorCode = keyof typeof errorCodes
export type ErrorStatus = (typeof errorCodes)[ErrorCode]

/** The one error type: thrown anywhere, rendered by the app as `{ error: { message, code } }`. */
export class ApiError extends Error {
  readonly status: ErrorStatus
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
    this.status = errorCodes[code]
  }

  toJSON() {
    return { error: { message: this.message, code: this.code, ...this.details } }
  }
}

/**
 * An error as PostgREST itself reports it (`{ code, message, details, hint }`, codes such as PGRST116), raised
 * only on the PostgREST surface, where clients such as supabase-js read those codes.
 */
export class PostgrestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string | null = null,
    readonly hint: string | null = null,
  ) {
    super(message)
  }

  toJSON() {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint }
  }
}

const postgrestCodes: Partial<Record<ErrorCode, string>> = {
  invalid_query: 'PGRST100',
  validation_failed: 'PGRST102',
  bad_request: 'PGRST102',
  unauthorized: 'PGRST301',
  insufficient_scope: '42501',
  not_found: 'PGRST205',
  conflict: '23505',
  unsupported_media_type: 'PGRST107',
}

/** Our error in PostgREST's shape, keeping its status; codes PostgREST has no twin for keep our name. */
export function asPostgrestError(error: ApiError): PostgrestError {
  const fields = error.details?.fields as { field: string; message: string }[] | undefined
  const details = fields ? fields.map((f) => `${f.field}: ${f.message}`).join('; ') : null
  return new PostgrestError(error.status, postgrestCodes[error.code] ?? error.code, error.message, details)
}

// How an error is documented: each status has a schema of its own whose code is one of that status's codes,
// shared by every route that answers it (components BadRequestError, NotFoundError …).
const schemaNames: Record<ErrorStatus, string> = {
  400: 'BadRequestError',
  401: 'UnauthorizedError',
  402: 'PaymentRequiredError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  409: 'ConflictError',
  410: 'GoneError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
  426: 'UpgradeRequiredError',
  422: 'UnprocessableEntityError',
  429: 'TooManyRequestsError',
  500: 'InternalError',
  502: 'BadGatewayError',
  503: 'ServiceUnavailableError',
}

/** The codes answered with `status`. */
export function codesOf(status: ErrorStatus): ErrorCode[] {
  return (Object.keys(errorCodes) as ErrorCode[]).filter((code) => errorCodes[code] === status)
}

const FieldProblem = z.object({ field: z.string(), message: z.string() })

const errorBodies = new Map<ErrorStatus, z.ZodType>()

/** The shared schema of an error answered with `status`: `{ error: { message, code } }`. */
export function errorBody(status: ErrorStatus): z.ZodType {
  let body = errorBodies.get(status)
  if (!body) {
    const error = z.object({ message: z.string(), code: z.enum(codesOf(status) as [ErrorCode, ...ErrorCode[]]) })
    // Invalid input also names each offending field.
    const detailed = status === 400 ? error.extend({ fields: z.array(FieldProblem).optional() }) : error
    body = z
      .object({
        error: detailed,
        detail: z.string().optional().openapi({ description: "On Connic's paths (/projects/{org_id}/…): the error's message." }),
      })
      .openapi(schemaNames[status])
    errorBodies.set(status, body)
  }
  return body
}

/** An error status as an OpenAPI response: `when` it is answered, then the codes it may carry. */
export function documentedError(status: ErrorStatus, when: string) {
  const codes = codesOf(status)
    .map((code) => `\`${code}\``)
    .join(', ')
  return { description: `${when} (${codes}).`, content: { 'application/json': { schema: errorBody(status) } } }
}

export function notFound(what: string): ApiError {
  return new ApiError('not_found', `${what} not found.`)
}

/**
 * Postgres errors never reach the client as text. Constraint and input errors that the request caused get
 * a 4xx with our own wording; anything else is an internal error, logged with the request id.
 */
export function fromDatabaseError(error: unknown): ApiError | null {
  const e = error as { code?: string; name?: string; constraint_name?: string }
  if (typeof e?.code !== 'string' || e.name !== 'PostgresError') return null
  switch (e.code) {
    case '23505':
      return new ApiError('conflict', 'A resource with the same unique value already exists.')
    case '23503':
      return new ApiError('validation_failed', 'A referenced resource does not exist.')
    case '23514':
    case '23502':
    case '22001':
      return new ApiError('validation_failed', 'A value is out of the allowed range or format.')
    case '22021':
    case '22P05':
      return new ApiError('validation_failed', 'A text value contains a character that cannot be stored (such as \\u0000).')
    case '22P02':
    case '22007':
    case '22008':
      return new ApiError('validation_failed', 'A value has the wrong format.')
    case '42501':
      return new ApiError('insufficient_scope', 'This credential is not allowed to make this change.')
  }
  // The rest of the data exceptions (a value PostgreSQL cannot convert, a number out of range, a bad date,
  // escape or pattern …) and the program limits only input can reach; row queries name the part at fault
  // (queryErrorFrom, below), this is the answer for every other statement.
  if (e.code.startsWith('22')) return new ApiError('validation_failed', 'A value is invalid for its type or out of range.')
  if (e.code.startsWith('54')) return new ApiError('bad_request', 'The request is too large or too complex to process.')
  return null
}

/** Input that fails a route's schema: the offending fields, each named by its path. */
export function validationError(error: z.ZodError): ApiError {
  const fields = error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }))
  const message = fields.map((f) => (f.field === '(body)' ? f.message : `${f.field}: ${f.message}`)).join('; ')
  return new ApiError('validation_failed', `Invalid request: ${message}`, { fields })
}

// What PostgreSQL says about a compiled statement that the request itself caused, in our words: its own text
// never reaches the client. The compiler notes, as it writes each part of a statement, which errors that part
// can raise on hostile input (a LIKE pattern, a regular expression, a cast, a literal PostgreSQL converts), so
// an error names the part at fault when exactly one part could have raised it, and "the query" otherwise.

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
  return (
    `Invalid escape in the LIKE pattern of ${where}: "\\" escapes the character after it, so a pattern cannot end with one ` +
    `(write "\\\\" for a backslash).`
  )
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
      return new ApiError(
        'invalid_query',
        'The query took too long and was cancelled: narrow it with filters on declared columns, or a smaller page.',
      )
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
    return new ApiError(
      'validation_failed',
      `A value in ${where} is too large to index: a declared text column's values must stay under about 2,700 bytes.`,
    )
  }
  return new ApiError(onlyData ? 'validation_failed' : 'invalid_query', problem[1](where))
}

/** Anything thrown while answering, as the error the client gets: never PostgreSQL's text, never a stack. */
export function toApiError(err: unknown, requestId: string | undefined): ApiError {
  if (err instanceof ApiError) return err
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ApiError('payload_too_large', 'Request body is too large.')
    if (err.status === 400) {
      return new ApiError('bad_request', /json/i.test(err.message) ? 'Malformed JSON in request body.' : err.message || 'Bad request.')
    }
    if (err.status === 401) return new ApiError('unauthorized', err.message || 'Unauthorized.')
  }
  const fromDb = fromDatabaseError(err)
  if (fromDb) return fromDb
  console.error(`[${requestId ?? '-'}]`, err)
  return new ApiError('internal', `Internal error; quote request id ${requestId ?? 'unknown'} when reporting it.`)
}

/**
 * The error's response: our envelope, or PostgREST's shape for a request to the PostgREST surface. On
 * Connic's paths (`withDetail`) the envelope also carries the message as `detail`, where Connic's clients read it.
 */
export function errorResponse(c: Context, error: ApiError | PostgrestError, onPostgrestSurface: boolean, withDetail = false): Response {
  if (error instanceof ApiError) for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value)
  const wire = error instanceof PostgrestError ? error : onPostgrestSurface ? asPostgrestError(error) : error
  if (wire instanceof PostgrestError) c.header('Proxy-Status', `PostgREST; error=${wire.code}`)
  const body = withDetail && wire instanceof ApiError ? { ...wire.toJSON(), detail: wire.message } : wire.toJSON()
  return c.json(body, wire.status as ContentfulStatusCode)
}
