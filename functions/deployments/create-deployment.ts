import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { insertDeployment } from './queries.ts'
import { CreateDeploymentBody, Deployment } from './schemas.ts'

export const createDeploymentRoute = defineRoute({
  method: 'post',
  path: '/deployments',
  scope: 'deployments:write',
  tags: ['Deployments'],
  summary: 'Deploy an agent to an environment',
  description:
    'Snapshots the agent’s configuration as it is now (model, instructions, temperature, max_output_tokens, name, description) ' +
    'as the next version for the agent in the environment (default `production`) and makes it the active one: runs created ' +
    'there from now on execute with this snapshot, whatever is changed on the agent later, until the next deployment or a ' +
    'rollback. A deployment is never changed. An environment the organisation does not have yet is added.',
  request: { body: { content: { 'application/json': { schema: CreateDeploymentBody } } } },
  errors: { 404: 'The agent does not exist for this credential' },
  responses: { 201: { description: 'The new, active deployment', content: { 'application/json': { schema: dataOf(Deployment) } } } },
})

export const registerCreateDeployment = (api: Api) =>
  api.openapi(createDeploymentRoute, async (c) => {
    const body = c.req.valid('json')
    const p = c.get('principal')
    const deployment = await withTenant(tenantOf(c), (tx) =>
      insertDeployment(tx, { orgId: p.orgId, agentId: body.agent_id, environment: body.environment ?? 'production' }),
    )
    return c.json({ data: deployment }, 201)
  })
