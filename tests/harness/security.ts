import { beforeAll, describe, expect, it } from 'vitest'
import type { CallOptions, TestApi } from './api.ts'
import { observe } from './observed.ts'
import { createTenant, type Tenant } from './tenants.ts'
import { rowsOf, victim } from './victim.ts'

/** What a route's definition (the object `defineRoute` returns) tells the security table. */
export interface DefinedRoute {
  method: string
  /** The OpenAPI path template, e.g. `/agent/api-keys/{id}`. */
  path: string
  responses: object
}

/** The names between braces in a path template: `/datasets/{id}/rows/{rowId}` gives `'id' | 'rowId'`. */
type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never
type ParamsFor<P extends string> = (t: Tenant) => Record<ParamNames<P>, string> | Promise<Record<ParamNames<P>, string>>

/** A route with path parameters addresses one resource: the test says which of t's resources to use. */
type ResourceOptions<P extends string> = [ParamNames<P>] extends [never]
  ? { params?: never; otherAgentParams?: never }
  : {
      /** The path parameters of a resource that belongs to `t` (made fresh for every check). */
      params: ParamsFor<P>
      /** For agent-owned resources: the same kind of resource, of t's other agent; an agent key must get 404 for it. */
      otherAgentParams?: ParamsFor<P>
    }

/** What only the test knows; the method, path and scope come from the route's definition. */
export type SecurityOptions<P extends string> = ResourceOptions<P> & {
  /** A query string (without `?`), for routes that need a filter to act; a function makes one naming something of t's. */
  query?: string | ((t: Tenant) => string | Promise<string>)
  /** The request body; a function makes a fresh one for every request (a unique name, something of t's). */
  body?: unknown | ((t: Tenant) => unknown)
  /** A body sent as is with its content type (an XML document, say) instead of `body` as JSON; fresh for every request. */
  rawBody?: (t: Tenant) => { body: string; contentType: string } | Promise<{ body: string; contentType: string }>
  /** Status a key holding exactly the route's scope gets; the route's declared success status unless set. */
  okStatus?: number
  /** The PostgREST surface (/rest/v1) answers errors as `{ code, message, details, hint }` with PostgREST's codes. */
  wire?: 'postgrest'
}

const postgrestCodes: Record<string, string> = { unauthorized: 'PGRST301', insufficient_scope: '42501', not_found: 'PGRST205' }

// A scope that is neither read nor write (data:delete) is stronger than any write: a key with *:write lacks
// it, and only * covers it.
const oppositeOf = (scope: string) =>
  scope.endsWith(':read') ? scope.replace(/:read$/, ':write') : scope.endsWith(':write') ? scope.replace(/:write$/, ':read') : '*:write'
const wildcardOf = (scope: string) => (scope.endsWith(':read') ? '*:read' : scope.endsWith(':write') ? '*:write' : '*')

/** The scope as the OpenAPI document publishes it (`x-required-scope`); null when any valid credential may call. */
function scopeOf(route: DefinedRoute): string | null {
  const scope = (route as { 'x-required-scope'?: unknown })['x-required-scope']
  if (typeof scope !== 'string') throw new Error(`${route.method} ${route.path} has no x-required-scope: declare it with defineRoute.`)
  return scope === 'any' ? null : scope
}

/** The lowest 2xx the route declares, as the audit log takes it. */
function successStatusOf(route: DefinedRoute): number {
  const statuses = Object.keys(route.responses)
    .map(Number)
    .filter((status) => status >= 200 && status < 300)
  if (!statuses.length) throw new Error(`${route.method} ${route.path} declares no success status.`)
  return Math.min(...statuses)
}

function fill(template: string, params: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (params[name] === undefined) throw new Error(`No value for the path parameter "${name}" of ${template}.`)
    return encodeURIComponent(params[name])
  })
}

/** The query string of a request to t's resource, with its `?`, or nothing. */
async function queryOf(options: { query?: SecurityOptions<string>['query'] }, t: Tenant): Promise<string> {
  const query = typeof options.query === 'function' ? await options.query(t) : options.query
  return query ? `?${query}` : ''
}

/** The request's body as sent: `rawBody` as is with its content type, or else `body` as JSON. */
async function bodyOf(options: { body?: unknown; rawBody?: SecurityOptions<string>['rawBody'] }, t: Tenant): Promise<CallOptions> {
  if (options.rawBody) {
    const raw = await options.rawBody(t)
    return { rawBody: raw.body, headers: { 'content-type': raw.contentType } }
  }
  return { body: typeof options.body === 'function' ? await options.body(t) : options.body }
}

/** The error as `{ code, message }` in our codes, whichever surface answered. */
function errorOf(body: any, wire: SecurityOptions<string>['wire']): { code: string; message: string } {
  if (wire !== 'postgrest') return body.error
  expect(Object.keys(body).sort()).toEqual(['code', 'details', 'hint', 'message'])
  const ours = Object.entries(postgrestCodes).find(([, theirs]) => theirs === body.code)?.[0]
  return { code: ours ?? body.code, message: body.message }
}

/**
 * Another organisation's key calls the route on this file's victim (tests/harness/victim.ts), which owns
 * one of every resource, each marked. Throws unless a route addressing a resource answers 404, the answer
 * carries none of the victim's ids, secrets or markers (beyond what the request itself sent), and a
 * writing route left every row of the victim's exactly as it was.
 */
export async function expectNoCrossTenantLeak<const R extends DefinedRoute>(
  route: R,
  options: SecurityOptions<R['path']>,
  api: TestApi,
): Promise<void> {
  const method = route.method.toUpperCase()
  const params = options.params as ParamsFor<string> | undefined
  const template = (options.wire === 'postgrest' ? '/rest/v1' : '') + route.path
  const { tenant, traces } = await victim()
  const attacker = await createTenant()
  const path = fill(template, params ? await params(tenant) : {}) + (await queryOf(options, tenant))
  const sent = await bodyOf(options, tenant)
  const writes = method !== 'GET' && method !== 'HEAD'
  const before = writes ? await rowsOf(tenant.org.id) : undefined

  const res = await api.call(method, path, { ...sent, key: await attacker.key() })

  const request = path + (sent.rawBody ?? JSON.stringify(sent.body ?? null))
  const answer = typeof res.body === 'string' ? res.body : JSON.stringify(res.body)
  const shown = Object.entries(traces)
    .filter(([, value]) => answer.includes(value) && !request.includes(value))
    .map(([what]) => what)
  expect(shown, `${method} ${path} showed another organisation the attacked one's ${shown.join(', ')}`).toEqual([])
  if (/\{\w+\}/.test(route.path)) {
    expect(res.status, JSON.stringify(res.body)).toBe(404)
    expect(errorOf(res.body, options.wire).code).toBe('not_found')
  }
  if (before) expect(await rowsOf(tenant.org.id), `${method} ${path} changed the attacked organisation's rows`).toEqual(before)
}

/**
 * The checks every route goes through: no key, malformed header, unknown, revoked and expired keys, a key
 * lacking the scope, another organisation's key, and an agent key reaching another agent's resource. The
 * route's method, path and scope are read from its definition, so the table cannot drift from the route;
 * each run is recorded, and tests/completeness/security-coverage.test.ts fails for an operation without one.
 */
export function describeSecurity<const R extends DefinedRoute>(route: R, options: SecurityOptions<R['path']>, api: () => TestApi) {
  const method = route.method.toUpperCase()
  const template = (options.wire === 'postgrest' ? '/rest/v1' : '') + route.path
  const scope = scopeOf(route)
  const okStatus = options.okStatus ?? successStatusOf(route)
  const addressesResource = /\{\w+\}/.test(route.path)
  const params = options.params as ParamsFor<string> | undefined
  const otherAgentParams = options.otherAgentParams as ParamsFor<string> | undefined
  if (addressesResource && !params) throw new Error(`${method} ${route.path}: say which resource to address (params).`)

  const pathOf = async (t: Tenant, paramsOf = params) => fill(template, paramsOf ? await paramsOf(t) : {}) + (await queryOf(options, t))

  describe(`${method} ${template}: shared security checks`, () => {
    beforeAll(async () => {
      observe('security-runs', { method, path: template })
      await victim()
    })

    const send = async (t: Tenant, callOptions: CallOptions, path?: string) => {
      const sent = await bodyOf(options, t)
      return api().call(method, path ?? (await pathOf(t)), {
        ...sent,
        ...callOptions,
        headers: { ...sent.headers, ...callOptions.headers },
      })
    }

    const expectUnauthorized = (res: { status: number; body: any }, message: RegExp) => {
      expect(res.status).toBe(401)
      expect(errorOf(res.body, options.wire).code).toBe('unauthorized')
      expect(errorOf(res.body, options.wire).message).toMatch(message)
    }

    it('rejects a request without a key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, {}), /Missing Authorization header/)
    })

    it('rejects a malformed Authorization header with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), /Malformed Authorization header/)
      expectUnauthorized(await send(t, { key: 'pk_not-a-key' }), /Malformed API key/)
    })

    it('rejects an unknown key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { key: `pk_${'0'.repeat(32)}` }), /Invalid API key/)
    })

    it('rejects a revoked key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { key: await t.key({ revoked: true }) }), /revoked/)
    })

    it('rejects an expired key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { key: await t.key({ expiresAt: new Date(Date.now() - 1000) }) }), /expired/)
    })

    if (scope !== null) {
      it(`refuses a key lacking "${scope}" with 403 insufficient_scope`, async () => {
        const t = await createTenant()
        const key = await t.key({ scopes: [oppositeOf(scope), scope.startsWith('agents:') ? 'runs:read' : 'agents:read'] })
        const res = await send(t, { key })
        expect(res.status).toBe(403)
        expect(errorOf(res.body, options.wire)).toEqual({
          code: 'insufficient_scope',
          message: `This API key lacks the required scope "${scope}".`,
        })
      })

      it(`admits a key holding exactly "${scope}", and "${wildcardOf(scope)}"`, async () => {
        const t = await createTenant()
        const exact = await send(t, { key: await t.key({ scopes: [scope] }) })
        expect(exact.status, JSON.stringify(exact.body)).toBe(okStatus)
        const wildcard = await send(t, { key: await t.key({ scopes: [wildcardOf(scope)] }) })
        expect(wildcard.status, JSON.stringify(wildcard.body)).toBe(okStatus)
      })
    } else {
      it('admits any valid key, whatever its scopes', async () => {
        const t = await createTenant()
        const res = await send(t, { key: await t.key({ scopes: ['agents:read'] }) })
        expect(res.status).toBe(okStatus)
      })
    }

    it("never shows or changes one organisation's data for another organisation's key", async () => {
      await expectNoCrossTenantLeak(route, options, api())
    })

    if (otherAgentParams) {
      it("answers 404 when an agent key reaches another agent's resource", async () => {
        const t = await createTenant()
        const res = await send(t, { key: await t.key({ agent: 'agent' }) }, await pathOf(t, otherAgentParams))
        expect(res.status).toBe(404)
        expect(errorOf(res.body, options.wire).code).toBe('not_found')
      })
    }

    it('sends the rate-limit headers and a request id', async () => {
      const t = await createTenant()
      const key = await t.key({ scopes: scope ? [scope] : ['*'] })
      // The reset is the end of the minute the request was admitted in, which may have passed by the time the
      // answer is read: it is compared with when the request was sent.
      const sentAt = Date.now() / 1000
      const res = await send(t, { key })
      expect(res.headers.get('x-ratelimit-limit')).toBe('1000000')
      expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0)
      const reset = Number(res.headers.get('x-ratelimit-reset'))
      expect(reset).toBeGreaterThan(sentAt)
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60)
      expect(res.headers.get('x-request-id')).toMatch(/.+/)
    })
  })
}
