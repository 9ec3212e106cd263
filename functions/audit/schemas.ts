import { z } from '@hono/zod-openapi'

export const AuditEntry = z
  .object({
    id: z.string().openapi({ description: 'Increasing: later entries have larger ids.' }),
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    key_id: z.uuid().nullable(),
    user_id: z.uuid().nullable(),
    agent_id: z.uuid().nullable(),
    request_id: z.string(),
    created_at: z.string(),
  })
  .openapi('AuditEntry')

export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: '1–200, default 50.' }),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, { message: 'Use the next_cursor of the previous page.' })
    .optional()
    .openapi({ description: 'The `next_cursor` of the previous page.' }),
  key_id: z.uuid().optional().openapi({ description: 'Only writes made with this key.' }),
})

export const AuditPage = z
  .object({ data: z.array(AuditEntry), next_cursor: z.string().nullable(), has_more: z.boolean() })
  .openapi('AuditPage')
