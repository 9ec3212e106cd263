import { createRoute, type RouteConfig } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { authenticate } from './auth.ts'
import { limitConcurrency } from './concurrency.ts'
import { ApiError, documentedError, type ErrorStatus } from './errors.ts'
import type { Scope } from './scopes.ts'
import { recordWrite } from './audit.ts'
import type { ApiEnv } from './server.ts'

/** For each error status a route answers, when it does so. */
export type RouteErrors = { [S in ErrorStatus]?: string }

type RouteInput = Omit<RouteConfig, 'middleware' | 'security'> & {
  /** The one scope this route needs; null admits any valid credential. */
  scope: Scope | null
  /**
   * The error statuses this route answers beyond those its shape implies (see `shapeErrors`), each with when;
   * a status listed here also replaces the standard wording.
   */
  errors?: RouteErrors
  /** A POST that only reads (a search with a body): not recorded in the audit log as a write. */
  readOnly?: true
}

/** The error statuses any route of this shape can answer, before its own handler runs or whatever it does. */
function shapeErrors(route: RouteConfig, scope: Scope | null, bodyRequired: boolean): RouteErrors {
  const request = route.request
  const errors: RouteErrors = {}
  // Authentication itself can answer 400 (a user token with a malformed or missing X-Org-Id), so every
  // route can, input or not.
  errors[400] =
    request?.params || request?.query || request?.headers || request?.body
      ? 'The request is malformed or fails validation, or names its organisation (X-Org-Id) wrongly'
      : 'The X-Org-Id header is malformed, or a user in several organisations names none'
  errors[401] = 'Missing, malformed, unknown, revoked or expired credential'
  if (scope) errors[403] = "The credential lacks the route's scope"
  if (route.path.includes('{')) errors[404] = 'No such resource for this credential'
  // The body limit applies to every request that may carry a body, declared or not.
  if (route.method !== 'get' && route.method !== 'head') errors[413] = 'The request body is too large'
  if (bodyRequired) errors[415] = 'The body is missing or not sent as JSON'
  errors[429] = "The organisation's rate limit is exhausted, or it has too many requests in flight; see `Retry-After`"
  errors[500] = 'Unexpected server error; no details are exposed'
  return errors
}

export const requireJson: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const type = c.req.header('content-type')
  if (!type || !/^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError('unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".')
  }
  await next()
}

/** The status a route answers when it succeeds: the lowest 2xx it declares. */
function successStatus(responses: RouteConfig['responses']): number {
  const statuses = Object.keys(responses)
    .map(Number)
    .filter((status) => status >= 200 && status < 300)
  return statuses.length ? Math.min(...statuses) : 200
}

/**
 * Declares a route once: path, method, schemas, its scope (enforced by the auth middleware, documented as
 * the bearer scope and as `x-required-scope`), and every error status it can answer: those its shape implies
 * (a body, path parameters, a scope) and those it lists in `errors`, each with the shared schema of its status.
 */
export function defineRoute<const R extends RouteInput>(input: R) {
  const { scope, errors, readOnly, ...route } = input
  const body = route.request?.body
  // A declared body is required unless the route says otherwise (an optional body may be omitted entirely).
  const bodyRequired = body !== undefined && body.required !== false
  const middleware: MiddlewareHandler<ApiEnv>[] = [authenticate(scope), limitConcurrency]
  // Reads are not audited, and a layer less is a few per cent of a cheap read's CPU.
  if (route.method !== 'get' && !readOnly) middleware.push(recordWrite(successStatus(route.responses)))
  if (bodyRequired) middleware.push(requireJson)
  return createRoute({
    ...route,
    request: body ? { ...route.request, body: { ...body, required: bodyRequired } } : route.request,
    security: [{ bearerAuth: scope ? [scope] : [] }],
    'x-required-scope': scope ?? 'any',
    // A read sent as POST (a search with a body): it changes nothing, so it needs a read scope.
    ...(readOnly ? { 'x-read-only': true } : {}),
    middleware,
    responses: { ...documentedErrors({ ...shapeErrors(route, scope, bodyRequired), ...errors }), ...route.responses },
  } as unknown as Omit<R, 'scope' | 'errors' | 'readOnly'> & { middleware: MiddlewareHandler<ApiEnv>[] })
}

function documentedErrors(errors: RouteErrors): RouteConfig['responses'] {
  return Object.fromEntries(Object.entries(errors).map(([status, when]) => [status, documentedError(Number(status) as ErrorStatus, when)]))
}
