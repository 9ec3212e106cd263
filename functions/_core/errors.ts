import { z } from '@hono/zod-openapi'

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
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_concurrent_requests: 429,
  budget_exceeded: 402,
  internal: 500,
  provider_error: 502,
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

export const ErrorBody = z
  .object({
    error: z.object({
      message: z.string().openapi({ example: 'This API key lacks the required scope "keys:write".' }),
      code: z.enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]]),
    }),
  })
  .openapi('Error')

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
  // (postgrest/query-errors.ts), this is the answer for every other statement.
  if (e.code.startsWith('22')) return new ApiError('validation_failed', 'A value is invalid for its type or out of range.')
  if (e.code.startsWith('54')) return new ApiError('bad_request', 'The request is too large or too complex to process.')
  return null
}
