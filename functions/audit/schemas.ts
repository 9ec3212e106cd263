import { z } from '@hono/zod-openapi'
import { cursorPage, cursorParam, limitParam } from '../_core/schemas.ts'

export const AuditEntry = z
  .object({
    id: z.string().openapi({ description: 'Increasing: later entries have larger ids.' }),
    method: z.string(),
    path: z.string(),
    status: z.number().int().openapi({ description: 'How the write ended: the status its answer had.' }),
    key_id: z.uuid().nullable(),
    user_id: z.uuid().nullable(),
    agent_id: z.uuid().nullable(),
    request_id: z.string(),
    created_at: z.string(),
  })
  .openapi('AuditEntry')

export const actorKinds = ['key', 'user', 'agent'] as const
export type ActorKind = (typeof actorKinds)[number]

const actorShape = /^(key|user|agent):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

/** `key:<uuid>`, `user:<uuid>` or `agent:<uuid>`, parsed into who to look for. */
export function actorOf(actor: string): { kind: ActorKind; id: string } {
  const [, kind, id] = actorShape.exec(actor) ?? []
  return { kind: kind.toLowerCase() as ActorKind, id: id.toLowerCase() }
}

const timestamp = (description: string) =>
  z.iso.datetime({ offset: true, message: 'Use an ISO 8601 date-time, such as 2026-11-30T12:00:00Z.' }).optional().openapi({ description })

export const AuditQuery = z.object({
  limit: limitParam(200, 50),
  cursor: cursorParam(/^\d{1,18}$/),
  key_id: z.uuid().optional().openapi({ description: 'Only writes made with this key (the same as `actor=key:<id>`).' }),
  actor: z
    .string()
    .regex(actorShape, { message: 'Use key:<uuid>, user:<uuid> or agent:<uuid>.' })
    .optional()
    .openapi({
      description:
        'Only writes made by this actor: `key:<uuid>` (an API key), `user:<uuid>` (a signed-in user) or `agent:<uuid>` ' +
        '(made on behalf of the agent, by its own keys or otherwise).',
      example: 'key:6c1f3b0e-2a4d-4c8e-9f7a-1b2c3d4e5f60',
    }),
  action: z
    .enum(['POST', 'PUT', 'PATCH', 'DELETE'], { message: 'Use POST, PUT, PATCH or DELETE.' })
    .optional()
    .openapi({ description: 'Only writes made with this HTTP method: the log records each write as its method and path.' }),
  resource: z
    .string()
    .regex(/^\/[^\s?#%]{0,500}$/, { message: 'Use a path such as /api/v1/agents or /api/v1/agents/<id>.' })
    .optional()
    .openapi({
      description:
        'Only writes to this path or below it, as the entries record it: `/api/v1/agents` matches `/api/v1/agents` and ' +
        '`/api/v1/agents/<id>/…` but not `/api/v1/agents-archive`.',
      example: '/api/v1/agents',
    }),
  from: timestamp('Only writes made at or after this time.'),
  to: timestamp('Only writes made before this time; not before `from`.'),
})

export const AuditPage = cursorPage(AuditEntry).openapi('AuditPage')

export const AuditVerification = z
  .object({
    valid: z.boolean().openapi({ description: 'Whether every link checked holds.' }),
    checked: z.number().int().openapi({ description: 'How many entries were checked, up to the first broken one.' }),
    first_broken: z
      .object({ id: z.string(), created_at: z.string() })
      .nullable()
      .openapi({ description: 'The first entry whose content or link to the entry before it does not match its hash.' }),
    unsealed: z
      .number()
      .int()
      .openapi({
        description:
          'Entries written but not yet linked into the chain (those committed during the walk): append-only like the rest, ' +
          'but not covered by a hash until they are sealed, within seconds.',
      }),
  })
  .openapi('AuditVerification')
