import { z } from '@hono/zod-openapi'
import { idParams } from '../_core/schemas.ts'

export const periods = ['day', 'month'] as const

export const Budget = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid().nullable().openapi({ description: "The agent it limits; null for the organisation's budget." }),
    period: z.enum(periods).openapi({ description: 'The UTC day or month it limits; each starts from nothing.' }),
    limit_usd: z.number(),
    period_start: z.string().openapi({ description: "The current period's first day (UTC), such as 2026-11-01." }),
    spent_usd: z.number().openapi({ description: 'What the current period has spent so far (calls of known cost).' }),
    remaining_usd: z.number().openapi({ description: 'The limit less what was spent, never below 0.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Budget')

export const BudgetBody = z
  .strictObject({
    agent_id: z
      .uuid({ message: 'Agent id must be a UUID.' })
      .nullable()
      .optional()
      .openapi({ description: "The agent to limit; leave it out (or null) for the organisation's budget." }),
    period: z.enum(periods, { message: 'Use day or month.' }),
    limit_usd: z
      .number()
      .positive({ message: 'Must be more than 0.' })
      .max(1_000_000_000, { message: 'Must be at most 1000000000.' })
      .openapi({ example: 25 }),
  })
  .openapi('BudgetBody')

export const BudgetParams = idParams('Budget')
