import { OpenAPIHono, type z } from '@hono/zod-openapi'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import type { Principal } from './auth.ts'
import { ApiError, fromDatabaseError } from './errors.ts'
import { readEnv } from './env.ts'

export type ApiEnv = { Variables: { principal: Principal; requestId: string } }
export type Api = OpenAPIHono<ApiEnv>

/** Where the API lives: the function is named `api`, so Supabase serves it at /functions/v1/api/v1. */
export const apiBasePath = '/api/v1'
export const gatewayPrefix = '/functions/v1'

/** An API version's router. Invalid input is answered with the offending fields, in our error envelope. */
export function createApi(): Api {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error)
    },
  })
}

export function validationError(error: z.ZodError): ApiError {
  const fields = error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(body)',
    message: issue.message,
  }))
  const message = fields.map((f) => (f.field === '(body)' ? f.message : `${f.field}: ${f.message}`)).join('; ')
  return new ApiError('validation_failed', `Invalid request: ${message}`, { fields })
}

/**
 * The HTTP server's app: request ids, the body size cap, the error envelope, and the API mounted both at
 * /api/v1 (as Supabase hands requests to the function) and at /functions/v1/api/v1 (the same public URL
 * served locally).
 */
export function createServerApp(v1: Api): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>()
  const maxBody = Number(readEnv('MAX_BODY_BYTES') ?? 1024 * 1024)

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID()
    c.set('requestId', requestId)
    c.header('x-request-id', requestId)
    await next()
  })
  app.use(
    '*',
    bodyLimit({
      maxSize: maxBody,
      onError: () => {
        // Close the connection: the rest of the oversized body is never read, so it cannot be reused.
        throw new ApiError('payload_too_large', `Request body exceeds the ${maxBody}-byte limit.`, undefined, { Connection: 'close' })
      },
    }),
  )

  app.route(apiBasePath, v1)
  app.route(gatewayPrefix + apiBasePath, v1)

  app.notFound((c) => errorResponse(c, new ApiError('not_found', `No route matches ${c.req.method} ${new URL(c.req.url).pathname}.`)))
  app.onError((err, c) => errorResponse(c, toApiError(err, c.get('requestId'))))
  return app
}

function toApiError(err: unknown, requestId: string | undefined): ApiError {
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

export function errorResponse(c: Context, error: ApiError): Response {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value)
  return c.json(error.toJSON(), error.status)
}
