import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'

export const runStatuses = ['queued', 'in_progress', 'completed', 'failed', 'cancelled', 'expired'] as const
/** A run in one of these has stopped for good. */
export const finishedStatuses: readonly string[] = ['completed', 'failed', 'cancelled', 'expired']

export const RunParams = idParams('Run')

const projectId = z
  .uuid({ message: 'Project id must be a UUID: your organisation id.' })
  .openapi({ param: { name: 'org_id', in: 'path' }, description: 'Your organisation id (Connic’s project id).' })

export const ProjectRunParams = z.object({
  org_id: projectId,
  run_id: z.uuid({ message: 'Run id must be a UUID.' }).openapi({ param: { name: 'run_id', in: 'path' } }),
})

// An agent is named by its id or by its name within the organisation.
const agentRef = z.string().min(1).max(200)

export const AgentRefParams = z.object({
  id: agentRef.openapi({ param: { name: 'id', in: 'path' }, description: "The agent's id, or its name in your organisation." }),
})

export const ProjectAgentParams = z.object({
  org_id: projectId,
  agent_name: agentRef.openapi({ param: { name: 'agent_name', in: 'path' }, description: "The agent's name (or id)." }),
})

export const TriggerBody = z
  .strictObject({
    message: z.string().min(1).max(100_000).openapi({ description: 'What the agent is asked to do.' }),
    input: z.unknown().optional().openapi({ description: 'Any JSON the run carries for the agent, given to it beside the message.' }),
    metadata: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Your own keys, kept with the run.' }),
    environment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
        message: 'An environment is 1–63 lowercase letters, digits, "-" or "_", starting with a letter or digit.',
      })
      .optional()
      .openapi({
        example: 'staging',
        description:
          'The environment to run in (default `production`): the run executes with the agent’s active deployment there, ' +
          'or with the agent as it is when it has none.',
      }),
  })
  .openapi('TriggerRun')

const RunError = z.object({ code: z.string(), message: z.string() }).openapi('RunError')

const RunUsage = z
  .object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    total_price: z.string().nullable().openapi({ description: 'In `currency`; null when a model called has no price.' }),
    currency: z.literal('USD'),
    latency: z.number().openapi({ description: 'Seconds from start to finish.' }),
  })
  .openapi('RunUsage')

export const RunStep = z
  .object({
    seq: z.number().int(),
    kind: z.literal('model_call'),
    model: z.string().nullable(),
    status: z.enum(['in_progress', 'completed', 'failed']),
    usage: z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), cost_usd: z.number().nullable() }).nullable(),
    output: z.string().nullable(),
    error: RunError.nullable(),
    started_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('RunStep')

export const Run = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid(),
    deployment_id: z.uuid().nullable(),
    environment: z.string().nullable(),
    status: z.enum(runStatuses),
    message: z.string(),
    input: z.unknown().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    output: z.string().nullable(),
    last_error: RunError.nullable(),
    usage: RunUsage.nullable(),
    cost_usd: z.number().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
    expires_at: z.string().nullable(),
  })
  .openapi('Run')

export const RunWithSteps = Run.extend({ steps: z.array(RunStep) }).openapi('RunWithSteps')

export const RunQuery = z.object({
  agent_id: z.uuid().optional(),
  status: z.enum(runStatuses).optional(),
  created_after: z.iso.datetime({ offset: true }).optional(),
  limit: limitParam(100, 20),
  cursor: cursorParam(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/),
})

export type RunRow = z.infer<typeof Run>
export type RunStepRow = z.infer<typeof RunStep>
