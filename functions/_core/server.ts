import { OpenAPIHono, z } from '@hono/zod-openapi'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Principal } from './auth.ts'
import type { AuditedWrite } from './db.ts'
import type { Scope } from './scopes.ts'
import { ApiError, errorResponse, PostgrestError, toApiError, validationError } from './errors.ts'
import { readEnv } from './env.ts'

export type ApiEnv = {
  /** `scope`: the scope the route was admitted for (null: any valid credential), for a stream to ask again. */
  Variables: { principal: Principal; requestId: string; write: AuditedWrite | undefined; scope: Scope | null }
}
export type Api = OpenAPIHono<ApiEnv>

/** Where the API lives: the function is named `api`, so Supabase serves it at /functions/v1/api/v1. */
export const apiBasePath = '/api/v1'
/** The PostgREST wire surface over datasets, where supabase-js (`createClient(<…>/functions/v1/api)`) looks. */
export const restBasePath = '/api/rest/v1'
export const gatewayPrefix = '/functions/v1'

// A field left out is "Required" rather than zod's "Invalid input: expected number, received undefined".
// Messages a schema gives itself still win; this only replaces zod's default for a missing value.
z.config({ customError: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? 'Required' : undefined) })

/** An API version's router. Invalid input is answered with the offending fields, in our error envelope. */
export function createApi(): Api {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error)
    },
  })
}

export interface ServerOptions {
  /** Routes (paths below /api/v1) whose bodies may be larger than MAX_BODY_BYTES, each with its own cap. */
  largerBodies?: Record<string, number>
}

/**
 * The HTTP server's app: request ids, the body size cap, the error envelope, and the API mounted both at
 * /api/v1 (as Supabase hands requests to the function) and at /functions/v1/api/v1 (the same public URL
 * served locally); the PostgREST surface likewise at /api/rest/v1.
 */
export function createServerApp(v1: Api, rest: Api, options: ServerOptions = {}): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>()
  const maxBody = Number(readEnv('MAX_BODY_BYTES') ?? 1024 * 1024)

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id')
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID()
    c.set('requestId', requestId)
    c.header('x-request-id', requestId)
    await next()
  })
  const limitTo = (maxSize: number): MiddlewareHandler<ApiEnv> => {
    const tooLarge = () => {
      // Close the connection: the rest of the oversized body is never read, so it cannot be reused.
      throw new ApiError('payload_too_large', `Request body exceeds the ${maxSize}-byte limit.`, undefined, { Connection: 'close' })
    }
    const streamed = bodyLimit({ maxSize, onError: tooLarge })
    // A declared length is checked from the header alone, as bodyLimit would: bodyLimit first asks for the
    // request's body stream, which makes @hono/node-server build a full Request and a web stream over the
    // socket, where a JSON route's own read takes the bytes directly (about a tenth of a trigger's CPU).
    return (c, next) => {
      const declared = c.req.header('content-length')
      if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next)
      return Number.parseInt(declared, 10) > maxSize ? tooLarge() : next()
    }
  }
  const limitBody = limitTo(maxBody)
  const largerBodies = new Map(Object.entries(options.largerBodies ?? {}).map(([path, max]) => [path, limitTo(Math.max(max, maxBody))]))
  // No route reads a GET's or HEAD's body, and asking for it makes @hono/node-server build a full Request
  // for every request: a few per cent of a key listing's CPU.
  app.use('*', (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const path = functionPath(c)
    const larger = largerBodies.size && path.startsWith(apiBasePath) ? largerBodies.get(path.slice(apiBasePath.length)) : undefined
    return (larger ?? limitBody)(c, next)
  })

  app.route(apiBasePath, v1)
  app.route(gatewayPrefix + apiBasePath, v1)
  app.route(restBasePath, rest)
  app.route(gatewayPrefix + restBasePath, rest)

  app.notFound((c) =>
    errorResponse(
      c,
      new ApiError('not_found', `No route matches ${c.req.method} ${new URL(c.req.url).pathname}.`),
      onPostgrestSurface(c),
      onConnicPath(c),
    ),
  )
  app.onError((err, c) =>
    errorResponse(c, err instanceof PostgrestError ? err : toApiError(err, c.get('requestId')), onPostgrestSurface(c), onConnicPath(c)),
  )
  return app
}

/** The request's path as the function sees it on Supabase (`/api/…`), whichever URL it came in by. */
export function functionPath(c: Context): string {
  return c.req.path.startsWith(gatewayPrefix) ? c.req.path.slice(gatewayPrefix.length) : c.req.path
}

/** Connic's paths (/projects/{org_id}/…), whose errors also carry `detail`. */
function onConnicPath(c: Context): boolean {
  return functionPath(c).startsWith(`${apiBasePath}/projects/`)
}

/** Requests to the PostgREST surface get their errors in PostgREST's shape. */
function onPostgrestSurface(c: Context): boolean {
  const path = functionPath(c)
  return path === restBasePath || path.startsWith(`${restBasePath}/`)
}

/**
 * A JSON body that is already text (rows as PostgreSQL rendered them), sent without a parse and a
 * re-serialisation. Typed as never so a typed route may return it: the route's schema still documents it.
 */
export function jsonText(c: Context, text: string, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): never {
  return c.body(text, status, { 'content-type': 'application/json; charset=utf-8', ...headers }) as never
}

/** A response without a body (`201`/`204` with only headers), typed like jsonText for typed routes. */
export function bodyless(c: Context, status: 201 | 204, headers: Record<string, string> = {}): never {
  return c.body(null, status, headers) as never
}
