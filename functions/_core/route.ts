import { createRoute, type RouteConfig } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { authenticate } from './auth.ts'
import { limitConcurrency } from './concurrency.ts'
import { ApiError, ErrorBody } from './errors.ts'
import type { Scope } from './scopes.ts'
import { recordWrite } from './audit.ts'
import type { ApiEnv } from './server.ts'

type RouteInput = Omit<RouteConfig, 'middleware' | 'security'> & {
  /** The one scope this route needs; null admits any valid credential. */
  scope: Scope | null
}

const errorContent = (description: string) => ({ description, content: { 'application/json': { schema: ErrorBody } } })

const standardErrors = {
  400: errorContent('The request is malformed or fails validation (`validation_failed`, `bad_request`).'),
  401: errorContent('Missing, malformed, unknown, revoked or expired credential (`unauthorized`).'),
  403: errorContent('The credential lacks the route\'s scope (`insufficient_scope`).'),
  404: errorContent('No such resource for this credential (`not_found`).'),
  413: errorContent('The request body is too large (`payload_too_large`).'),
  429: errorContent('The organisation\'s rate limit is exhausted (`rate_limited`), or it has too many requests in flight (`too_many_concurrent_requests`); see `Retry-After`.'),
  500: errorContent('Unexpected server error (`internal`); no details are exposed.'),
}

const requireJson: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const type = c.req.header('content-type')
  if (!type || !/^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError('unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".')
  }
  await next()
}

/** The status a route answers when it succeeds: the lowest 2xx it declares. */
function successStatus(responses: RouteConfig['responses']): number {
  const statuses = Object.keys(responses).map(Number).filter((status) => status >= 200 && status < 300)
  return statuses.length ? Math.min(...statuses) : 200
}

/**
 * Declares a route once: path, method, schemas, its scope (enforced by the auth middleware, documented as
 * the bearer scope and as `x-required-scope`), and the error responses every route shares.
 */
export function defineRoute<const R extends RouteInput>(input: R) {
  const { scope, ...route } = input
  const body = route.request?.body
  // A declared body is required unless the route says otherwise (an optional body may be omitted entirely).
  const bodyRequired = body !== undefined && body.required !== false
  const middleware: MiddlewareHandler<ApiEnv>[] = [authenticate(scope), limitConcurrency, recordWrite(successStatus(route.responses))]
  if (bodyRequired) middleware.push(requireJson)
  return createRoute({
    ...route,
    request: body ? { ...route.request, body: { ...body, required: bodyRequired } } : route.request,
    security: [{ bearerAuth: scope ? [scope] : [] }],
    'x-required-scope': scope ?? 'any',
    middleware,
    responses: { ...standardErrors, ...route.responses },
  } as unknown as Omit<R, 'scope'> & { middleware: MiddlewareHandler<ApiEnv>[] })
}
