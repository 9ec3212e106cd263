import { insertForAgent, owningAgent } from '../_core/agent-ownership.ts'
import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { issueKey } from './issue-key.ts'
import { scopesNotHeld } from './queries.ts'
import { CreateKeyBody, CreatedApiKey } from './schemas.ts'

export const createKeyRoute = defineRoute({
  method: 'post',
  path: '/agent/api-keys',
  scope: 'keys:write',
  tags: ['API keys'],
  summary: 'Create an API key',
  description:
    'Creates an organisation token (`pk_…`) or, with `agent_id`, an agent key (`ck_live_…`/`ck_test_…`). The raw key ' +
    'is in the response once. A key cannot be given a scope its creator does not hold; an agent key can only ' +
    'create keys for its own agent. A key created by an expiring key expires no later than it (by default, at the ' +
    'same time), and a test key (`ck_test_`) creates test keys only.',
  request: { body: { content: { 'application/json': { schema: CreateKeyBody } } } },
  errors: { 404: 'The agent named by `agent_id` does not exist for this credential' },
  responses: {
    201: { description: 'The new key, with its raw value', content: { 'application/json': { schema: dataOf(CreatedApiKey) } } },
  },
})

export const registerCreateKey = (api: Api) =>
  api.openapi(createKeyRoute, async (c) => {
    const body = c.req.valid('json')
    const p = c.get('principal')
    const agentId = owningAgent(p, body.agent_id)
    const scopes = body.scopes ?? body.permissions ?? p.scopes
    const mode = agentId ? (body.mode ?? p.mode ?? 'live') : null
    if (p.mode === 'test' && mode !== 'test') {
      throw new ApiError('insufficient_scope', 'A test key (ck_test_) can create test keys only; leave "mode" out or set it to "test".')
    }
    const expiresAt = expiryWithin(body.expires_at, p.expiresAt)

    const created = await withTenant(tenantOf(c), async (tx) => {
      const missing = await scopesNotHeld(tx, scopes, p.scopes)
      if (missing.length > 0) {
        throw new ApiError(
          'insufficient_scope',
          `A key cannot grant the scope "${missing[0]}": the credential creating it does not hold it.`,
        )
      }
      return insertForAgent(
        issueKey(tx, {
          orgId: p.orgId,
          agentId,
          mode,
          name: body.name,
          scopes,
          expiresAt,
          createdByKey: p.keyId,
          createdByUser: p.userId,
        }),
      )
    })
    return c.json({ data: created }, 201)
  })

/** A key never outlives the key creating it: without an expiry of its own it takes its creator's. */
function expiryWithin(requested: string | undefined, creatorExpiry: Date | null): string | null {
  if (!creatorExpiry) return requested ?? null
  if (requested === undefined) return creatorExpiry.toISOString()
  if (Date.parse(requested) > creatorExpiry.getTime()) {
    const message = `Must be no later than ${creatorExpiry.toISOString()}, when the key creating it expires.`
    throw new ApiError('validation_failed', `Invalid request: expires_at: ${message}`, { fields: [{ field: 'expires_at', message }] })
  }
  return requested
}
