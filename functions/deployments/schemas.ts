import { z } from '@hono/zod-openapi'
import { cursorParam, idParams, limitParam } from '../_core/schemas.ts'

/** An environment's name, as agentry.environments has them (`production`, `development`, `staging` …). */
export const environmentName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
    message: 'An environment is 1–63 lowercase letters, digits, "-" or "_", starting with a letter or digit.',
  })
  .openapi({ example: 'production' })

export const AgentConfiguration = z
  .object({
    model: z.string().nullable().optional(),
    instructions: z.string().optional(),
    temperature: z.number().nullable().optional(),
    max_output_tokens: z.number().int().nullable().optional(),
    name: z.string().optional(),
    description: z.string().nullable().optional(),
  })
  .passthrough()
  .openapi('AgentConfiguration')

export const Deployment = z
  .object({
    id: z.uuid(),
    agent_id: z.uuid(),
    environment: z.string(),
    version: z.number().int().openapi({ description: 'Counts the agent’s deployments to this environment, from 1.' }),
    configuration: AgentConfiguration.openapi({
      description: 'The agent’s configuration as deployed; runs in this environment execute with it while it is active.',
    }),
    active: z.boolean().openapi({ description: 'The one deployment of the agent in this environment that runs use.' }),
    rolled_back_from: z.uuid().nullable().openapi({ description: 'On a rollback: the deployment that was active until it.' }),
    restored_from: z.uuid().nullable().openapi({ description: 'On a rollback: the deployment whose configuration it restores.' }),
    created_at: z.string(),
  })
  .openapi('Deployment')

export const DeploymentParams = idParams('Deployment')

// Listings are newest first; the cursor is the last row's creation time and id.
const cursorShape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z_[0-9a-f-]{36}$/

export const DeploymentQuery = z.object({
  agent_id: z.uuid({ message: 'agent_id must be a UUID.' }).optional(),
  environment: environmentName.optional(),
  active: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .openapi({ description: 'Only the active deployments (true) or only the others (false).' }),
  limit: limitParam(100, 20),
  cursor: cursorParam(cursorShape),
})

export const CreateDeploymentBody = z
  .strictObject({
    agent_id: z.uuid({ message: 'agent_id must be a UUID.' }),
    environment: environmentName.optional().openapi({ description: 'Default `production`.' }),
  })
  .openapi('CreateDeployment')
