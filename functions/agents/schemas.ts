import { z } from '@hono/zod-openapi'
import { idParams } from '../_core/schemas.ts'

export const Agent = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    instructions: z.string().openapi({ description: 'The system prompt the model sees first.' }),
    model: z.string().nullable().openapi({
      description: "One of the models this server offers (AGENT_MODELS, or the priced models); null: the provider's default (LLM_MODEL).",
    }),
    temperature: z.number().nullable(),
    max_output_tokens: z.number().int().nullable(),
    status: z.enum(['active', 'paused']),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Agent')

export const AgentParams = idParams('Agent')

const fields = {
  description: z.string().max(2000).nullable().optional(),
  instructions: z.string().max(100_000).optional(),
  model: z.string().trim().min(1).max(200).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  max_output_tokens: z.number().int().min(1).max(1_000_000).nullable().optional(),
  status: z.enum(['active', 'paused']).optional().openapi({ description: 'A paused agent refuses chat (409).' }),
  metadata: z.record(z.string(), z.unknown()).optional(),
}

export const CreateAgentBody = z.strictObject({ name: z.string().trim().min(1).max(200), ...fields }).openapi('CreateAgent')
export const UpdateAgentBody = z.strictObject({ name: z.string().trim().min(1).max(200).optional(), ...fields }).openapi('UpdateAgent')
