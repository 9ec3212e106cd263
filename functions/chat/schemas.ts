import { z } from '@hono/zod-openapi'
import { Citation } from '../_core/retrieval.ts'
import { idParams } from '../_core/schemas.ts'

export const AgentParams = idParams('Agent', 'agentId')

export const ChatBody = z
  .strictObject({
    message: z.string().min(1).max(100_000).openapi({ example: 'Hello, agent!' }),
    conversation_id: z
      .uuid()
      .optional()
      .openapi({ description: 'Continue this conversation; without it a new one is started, titled after the message.' }),
    stream: z.boolean().optional().openapi({ description: 'Answer as Server-Sent Events (also with `Accept: text/event-stream`).' }),
    user: z.string().min(1).max(200).optional().openapi({ description: 'Who is talking, as your system names them.' }),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .openapi('ChatMessage')

export const ChatUsage = z
  .object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    cost_usd: z
      .number()
      .nullable()
      .openapi({ description: 'In US dollars, from the price table; null when the model has no price (see `warning`).' }),
    warning: z.string().optional().openapi({ description: 'Present when the cost is unknown: the model has no price.' }),
    estimated: z.boolean().openapi({ description: 'True when the provider reported no usage and the counts were estimated.' }),
  })
  .openapi('ChatUsage')

export const ChatReply = z
  .object({
    conversation_id: z.uuid(),
    message_id: z.uuid(),
    reply: z.string(),
    status: z.enum(['complete', 'incomplete']).openapi({ description: '`incomplete` when the generation was stopped before its end.' }),
    model: z.string(),
    citations: z.array(Citation).openapi({
      description:
        "The passages of the agent's knowledge bases the model was given for this message, best first, numbered [1], [2] … " +
        'in its context in this order; empty when the agent has no linked bases or none matched.',
    }),
    usage: ChatUsage,
    latency_ms: z.number().int(),
  })
  .openapi('ChatReply')

export const StopBody = z.strictObject({ conversation_id: z.uuid() }).openapi('StopGeneration')
