import { z } from '@hono/zod-openapi'
import { idParams } from '../_core/schemas.ts'
import { ScopeSchema } from '../_core/scopes.ts'

export const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'pk_99fa646d', description: 'The key type and its first 8 characters, for display.' }),
    kind: z.enum(['org', 'agent']).openapi({ description: '`org`: organisation token (pk_); `agent`: agent key (ck_).' }),
    agent_id: z.uuid().nullable(),
    mode: z.enum(['live', 'test']).nullable(),
    scopes: z.array(z.string()),
    status: z.enum(['active', 'revoked']),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
    calls: z.number().int(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
    rotated_from: z.uuid().nullable(),
  })
  .openapi('ApiKey')

export const CreatedApiKey = ApiKey.extend({
  key: z.string().openapi({ description: 'The raw key. It is shown once and cannot be retrieved again.' }),
}).openapi('CreatedApiKey')

export const KeyParams = idParams('Key')

export const CreateKeyBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    scopes: z.array(ScopeSchema).min(1).max(64).optional().openapi({ description: "Defaults to the creator's own scopes." }),
    permissions: z.array(ScopeSchema).min(1).max(64).optional().openapi({ description: 'Alias of `scopes`.' }),
    agent_id: z
      .uuid()
      .optional()
      .openapi({ description: 'Bind the key to one agent: an agent key (ck_) instead of an organisation token (pk_).' }),
    mode: z.enum(['live', 'test']).optional().openapi({ description: 'Agent keys only: `ck_live_` (default) or `ck_test_`.' }),
    expires_at: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((b) => !(b.scopes && b.permissions), { message: 'Give either "scopes" or "permissions", not both.', path: ['permissions'] })
  .refine((b) => b.mode === undefined || b.agent_id !== undefined, {
    message: '"mode" applies to agent keys only; give "agent_id" too.',
    path: ['mode'],
  })
  .refine((b) => b.expires_at === undefined || Date.parse(b.expires_at) > Date.now(), {
    message: 'Must be in the future.',
    path: ['expires_at'],
  })
  .openapi('CreateApiKey')

export const RotateKeyBody = z
  .strictObject({
    grace_period_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional()
      .openapi({
        description: 'Keep the old key working this long (at most 7 days); by default it stops at once.',
      }),
  })
  .openapi('RotateApiKey')

export const DeleteKeyQuery = z.object({
  permanent: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: '`true` deletes the record; otherwise the key is revoked and its record and history kept.' }),
})
