import { describe, expect, it } from 'vitest'
import type { CallOptions, TestApi } from './api.ts'
import { createTenant, type Tenant } from './tenants.ts'

export interface SecuredRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** A path addressing something that belongs to `t` (built fresh for every check). */
  path: (t: Tenant) => string | Promise<string>
  /** The request body; a function makes a fresh one for every request (a unique name, something of t's). */
  body?: unknown | ((t: Tenant) => unknown)
  /** The route's declared scope; null when any valid credential may call it. */
  scope: string | null
  /** Status a key holding exactly `scope` gets. */
  okStatus: number
  /** Set for routes that address one agent-owned resource: a path to the same kind of resource of t's other agent. */
  otherAgentPath?: (t: Tenant) => string | Promise<string>
  /** Set for routes that address one resource by id: another organisation's key must get 404 for it. */
  addressesResource?: boolean
  /** The PostgREST surface answers errors as `{ code, message, details, hint }` with PostgREST's codes. */
  wire?: 'postgrest'
}

const postgrestCodes: Record<string, string> = { unauthorized: 'PGRST301', insufficient_scope: '42501', not_found: 'PGRST205' }

const oppositeOf = (scope: string) => (scope.endsWith(':read') ? scope.replace(/:read$/, ':write') : scope.replace(/:write$/, ':read'))

/**
 * The checks every route goes through: no key, malformed header, unknown, revoked and expired keys, a key
 * lacking the scope, another organisation's key, and an agent key reaching another agent's resource.
 */
export function describeSecurity(name: string, route: SecuredRoute, api: () => TestApi) {
  describe(`${name}: shared security checks`, () => {
    const send = async (t: Tenant, options: CallOptions, path?: string) =>
      api().call(route.method, path ?? (await route.path(t)), { body: typeof route.body === 'function' ? await route.body(t) : route.body, ...options })

    /** The error as `{ code, message }` in our codes, whichever surface answered. */
    const errorOf = (body: any): { code: string; message: string } => {
      if (route.wire !== 'postgrest') return body.error
      expect(Object.keys(body).sort()).toEqual(['code', 'details', 'hint', 'message'])
      const ours = Object.entries(postgrestCodes).find(([, theirs]) => theirs === body.code)?.[0]
      return { code: ours ?? body.code, message: body.message }
    }

    const expectUnauthorized = (res: { status: number; body: any }, message: RegExp) => {
      expect(res.status).toBe(401)
      expect(errorOf(res.body).code).toBe('unauthorized')
      expect(errorOf(res.body).message).toMatch(message)
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
      expectUnauthorized(await send(t, { key: 'pk_' + '0'.repeat(32) }), /Invalid API key/)
    })

    it('rejects a revoked key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { key: await t.key({ revoked: true }) }), /revoked/)
    })

    it('rejects an expired key with 401', async () => {
      const t = await createTenant()
      expectUnauthorized(await send(t, { key: await t.key({ expiresAt: new Date(Date.now() - 1000) }) }), /expired/)
    })

    if (route.scope !== null) {
      const scope = route.scope
      it(`refuses a key lacking "${scope}" with 403 insufficient_scope`, async () => {
        const t = await createTenant()
        const key = await t.key({ scopes: [oppositeOf(scope), scope.startsWith('agents:') ? 'runs:read' : 'agents:read'] })
        const res = await send(t, { key })
        expect(res.status).toBe(403)
        expect(errorOf(res.body)).toEqual({ code: 'insufficient_scope', message: `This API key lacks the required scope "${scope}".` })
      })

      it(`admits a key holding exactly "${scope}", and "${scope.split(':')[1] === 'read' ? '*:read' : '*:write'}"`, async () => {
        const t = await createTenant()
        const exact = await send(t, { key: await t.key({ scopes: [scope] }) })
        expect(exact.status, JSON.stringify(exact.body)).toBe(route.okStatus)
        const wildcard = await send(t, { key: await t.key({ scopes: [`*:${scope.split(':')[1]}`] }) })
        expect(wildcard.status, JSON.stringify(wildcard.body)).toBe(route.okStatus)
      })
    } else {
      it('admits any valid key, whatever its scopes', async () => {
        const t = await createTenant()
        const res = await send(t, { key: await t.key({ scopes: ['agents:read'] }) })
        expect(res.status).toBe(route.okStatus)
      })
    }

    it('never shows one organisation\'s data to another organisation\'s key', async () => {
      const t = await createTenant()
      const other = await createTenant()
      const res = await send(t, { key: await other.key() })
      if (route.addressesResource) {
        expect(res.status).toBe(404)
        expect(errorOf(res.body).code).toBe('not_found')
      }
      expect(JSON.stringify(res.body)).not.toContain(t.org.id)
    })

    if (route.otherAgentPath) {
      const otherAgentPath = route.otherAgentPath
      it('answers 404 when an agent key reaches another agent\'s resource', async () => {
        const t = await createTenant()
        const res = await send(t, { key: await t.key({ agent: 'agent' }) }, await otherAgentPath(t))
        expect(res.status).toBe(404)
        expect(errorOf(res.body).code).toBe('not_found')
      })
    }

    it('sends the rate-limit headers and a request id', async () => {
      const t = await createTenant()
      const res = await send(t, { key: await t.key({ scopes: route.scope ? [route.scope] : ['*'] }) })
      expect(res.headers.get('x-ratelimit-limit')).toBe('1000000')
      expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0)
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000)
      expect(res.headers.get('x-request-id')).toMatch(/.+/)
    })
  })
}
