import { z } from '@hono/zod-openapi'
import type { Api } from '../_core/server.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'

const Me = z
  .object({
    credential: z.enum(['org_key', 'agent_key', 'agent_signature', 'user']),
    org: z.object({ id: z.uuid(), name: z.string(), plan: z.string() }),
    agent_id: z.uuid().nullable(),
    key: z.object({ id: z.uuid(), mode: z.enum(['live', 'test']).nullable(), expires_at: z.string().nullable() }).nullable(),
    user: z.object({ id: z.uuid(), role: z.string() }).nullable(),
    scopes: z.array(z.string()),
    rate_limit: z.object({ limit: z.number().int(), remaining: z.number().int(), reset: z.number().int() }),
  })
  .openapi('Me')

export const getMeRoute = defineRoute({
  method: 'get',
  path: '/me',
  scope: null,
  tags: ['Organisation'],
  summary: 'Describe the calling credential',
  description: "Any valid credential may ask: its organisation, agent, scopes, expiry and the organisation's rate-limit state.",
  responses: { 200: { description: 'The credential', content: { 'application/json': { schema: dataOf(Me) } } } },
})

// Everything here was returned by the authentication statement itself: no further query.
export const registerGetMe = (api: Api) =>
  api.openapi(getMeRoute, (c) => {
    const p = c.get('principal')
    return c.json(
      {
        data: {
          credential: p.kind,
          org: { id: p.orgId, name: p.orgName, plan: p.plan },
          agent_id: p.agentId,
          key: p.keyId ? { id: p.keyId, mode: p.mode, expires_at: p.expiresAt?.toISOString() ?? null } : null,
          user: p.userId ? { id: p.userId, role: p.role ?? 'member' } : null,
          scopes: p.scopes,
          rate_limit: p.rateLimit,
        },
      },
      200,
    )
  })
