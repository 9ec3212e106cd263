import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { forgetKey } from '../_core/request-path.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { issueKey } from './issue-key.ts'
import { expireKey, lockKey, revokeKey } from './queries.ts'
import { keyWithinReach } from './reach.ts'
import { CreatedApiKey, KeyParams, RotateKeyBody } from './schemas.ts'

export const rotateKeyRoute = defineRoute({
  method: 'post',
  path: '/agent/api-keys/{id}/rotate',
  scope: 'keys:write',
  tags: ['API keys'],
  summary: 'Rotate an API key',
  description:
    'Issues a new key with the same name, agent and scopes, and ends the old one: at once, or after ' +
    '`grace_period_seconds` so deployments can switch over. The new raw key is returned once. The new key ' +
    "keeps the old one's expiry, brought forward to the rotating key's own if that is earlier. A key can " +
    'rotate only keys whose every scope it holds, and a test key only test keys.',
  request: { params: KeyParams, body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } } },
  errors: { 409: 'The key is revoked' },
  responses: {
    201: { description: 'The replacement key, with its raw value', content: { 'application/json': { schema: dataOf(CreatedApiKey) } } },
  },
})

export const registerRotateKey = (api: Api) =>
  api.openapi(rotateKeyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const grace = c.req.valid('json')?.grace_period_seconds ?? 0
    const p = c.get('principal')

    const created = await withTenant(tenantOf(c), async (tx) => {
      await keyWithinReach(tx, id, p.scopes, 'rotating')
      const old = await lockKey(tx, id)
      if (!old) throw notFound('API key')
      if (old.status === 'revoked') throw new ApiError('conflict', 'This API key is revoked; a revoked key cannot be rotated.')
      if (p.mode === 'test' && old.mode !== 'test') {
        throw new ApiError(
          'insufficient_scope',
          'A test key (ck_test_) can rotate test keys only: rotating issues a new key of the same mode.',
        )
      }
      const replacement = await issueKey(tx, {
        orgId: old.org_id,
        agentId: old.agent_id,
        mode: old.mode,
        name: old.name,
        scopes: old.scopes,
        expiresAt: replacementExpiry(old, p.expiresAt),
        rotatedFrom: old.id,
        createdByKey: p.keyId,
        createdByUser: p.userId,
      })
      if (grace > 0) await expireKey(tx, old.id, grace)
      else await revokeKey(tx, old.id)
      return replacement
    })
    forgetKey(id)
    return c.json({ data: created }, 201)
  })

/** The old key's expiry, brought forward to the rotating credential's own when that comes first. */
function replacementExpiry(old: { expires_at: string | null; expires_at_ts: Date | null }, rotatorExpiry: Date | null): string | null {
  if (rotatorExpiry && (!old.expires_at_ts || rotatorExpiry <= old.expires_at_ts)) return rotatorExpiry.toISOString()
  return old.expires_at
}
