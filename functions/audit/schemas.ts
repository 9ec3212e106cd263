import { z } from '@hono/zod-openapi'
import { cursorPage, cursorParam, limitParam } from '../_core/schemas.ts'

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
  limit: limitParam(200, 50),
  cursor: cursorParam(/^\d{1,18}$/),
  key_id: z.uuid().optional().openapi({ description: 'Only writes made with this key.' }),
})

export const AuditPage = cursorPage(AuditEntry).openapi('AuditPage')
