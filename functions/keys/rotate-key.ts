import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/app.ts'
import { claimsOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { issueKey } from './issue-key.ts'
import { expireKey, lockKey, revokeKey, scopesNotHeld } from './queries.ts'
import { CreatedApiKey, KeyParams, RotateKeyBody } from './schemas.ts'

export const rotateKeyRoute = defineRoute({
  method: 'post',
  path: '/agent/api-keys/{id}/rotate',
  scope: 'keys:write',
  tags: ['API keys'],
  summary: 'Rotate an API key',
  description:
    'Issues a new key with the same name, agent and scopes, and ends the old one: at once, or after ' +
    '`grace_period_seconds` so deployments can switch over. The new raw key is returned once.',
  request: { params: KeyParams, body: { required: false, content: { 'application/json': { schema: RotateKeyBody } } } },
  responses: { 201: { description: 'The replacement key, with its raw value', content: { 'application/json': { schema: z.object({ data: CreatedApiKey }) } } } },
})

export const registerRotateKey = (api: Api) =>
  api.openapi(rotateKeyRoute, async (c) => {
    const { id } = c.req.valid('param')
    const grace = c.req.valid('json')?.grace_period_seconds ?? 0
    const p = c.get('principal')

    const created = await withTenant(claimsOf(p), async (tx) => {
      const old = await lockKey(tx, id)
      if (!old) throw notFound('API key')
      if (old.status === 'revoked') throw new ApiError('conflict', 'This API key is revoked; a revoked key cannot be rotated.')
      const missing = await scopesNotHeld(tx, old.scopes, p.scopes)
      if (missing.length > 0) {
        throw new ApiError('insufficient_scope', `This key holds the scope "${missing[0]}", which the credential rotating it does not hold.`)
      }
      const replacement = await issueKey(tx, {
        orgId: old.org_id,
        agentId: old.agent_id,
        mode: old.mode,
        name: old.name,
        scopes: old.scopes,
        expiresAt: old.expires_at,
        rotatedFrom: old.id,
        createdByKey: p.keyId,
        createdByUser: p.userId,
      })
      if (grace > 0) await expireKey(tx, old.id, grace)
      else await revokeKey(tx, old.id)
      return replacement
    })
    return c.json({ data: created }, 201)
  })
