import { z } from '@hono/zod-openapi'
import { idParams } from '../_core/schemas.ts'

export const DeletionRequestParams = idParams('Deletion request')

export const CreateDeletionRequestBody = z
  .object({
    scope: z.enum(['organization', 'inbox', 'messages']).openapi({
      description:
        "`organization`: all of the organisation's tenant content (email, knowledge, datasets, conversations, agents, webhooks); " +
        'it keeps the organisation, its members, organisation tokens, audit log, usage records and deletion requests. ' +
        "`inbox`: one inbox with its threads, messages and attachments. `messages`: one inbox's messages (before `before` " +
        'when given) with their attachments, and the threads left empty.',
    }),
    inbox_id: z.uuid({ message: 'inbox_id must be a UUID.' }).optional().openapi({ description: 'Required for `inbox` and `messages`.' }),
    before: z
      .union([z.iso.datetime({ offset: true }), z.iso.date()], { message: 'before must be an ISO 8601 date or date-time.' })
      .optional()
      .openapi({ description: 'For `messages` only: deletes the messages stored before this time.', example: '2025-01-01T00:00:00Z' }),
  })
  .strict()
  .openapi('CreateDeletionRequest')

export const ConfirmDeletionRequestBody = z
  .object({ confirmation_token: z.string().min(1).max(200) })
  .strict()
  .openapi('ConfirmDeletionRequest')

const Counts = z.record(z.string(), z.number().int()).openapi({ example: { messages: 120, threads: 14, attachments: 9 } })

export const DeletionRequest = z
  .object({
    id: z.uuid(),
    scope: z.enum(['organization', 'inbox', 'messages']),
    inbox_id: z.uuid().nullable(),
    before: z.string().nullable(),
    status: z.enum(['pending', 'confirmed', 'running', 'completed', 'failed', 'expired']),
    preview: Counts.openapi({ description: 'Records of each kind the scope held when the request was made.' }),
    done: Counts.openapi({ description: 'Records of each kind deleted so far.' }),
    expires_at: z.string().openapi({ description: 'Until when the confirmation token is accepted.' }),
    error: z.string().nullable(),
    created_at: z.string(),
    confirmed_at: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
  })
  .openapi('DeletionRequest')

export const NewDeletionRequest = DeletionRequest.extend({
  confirmation_token: z.string().openapi({ description: 'Shown once; send it to the confirm route within the hour.' }),
}).openapi('NewDeletionRequest')

export type DeletionRequestRow = z.infer<typeof DeletionRequest>
