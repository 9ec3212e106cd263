import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { activeDeployment, insertDeployment, requireDeployment } from './queries.ts'
import { Deployment, DeploymentParams } from './schemas.ts'

export const rollbackDeploymentRoute = defineRoute({
  method: 'post',
  path: '/deployments/{id}/rollback',
  scope: 'deployments:write',
  tags: ['Deployments'],
  summary: 'Roll back to a deployment',
  description:
    'Makes this deployment’s configuration the active one again, as a new deployment (the next version) with `restored_from` ' +
    'naming this one and `rolled_back_from` the one that was active. Answers with the new deployment, which is now active; ' +
    'runs created from now on execute with it. Rolling back to the active deployment itself still makes a new version.',
  request: { params: DeploymentParams },
  responses: { 201: { description: 'The new, active deployment', content: { 'application/json': { schema: dataOf(Deployment) } } } },
})

export const registerRollbackDeployment = (api: Api) =>
  api.openapi(rollbackDeploymentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const p = c.get('principal')
    const deployment = await withTenant(tenantOf(c), async (tx) => {
      const target = await requireDeployment(tx, id)
      const active = await activeDeployment(tx, target.agent_id, target.environment)
      return insertDeployment(tx, {
        orgId: p.orgId,
        agentId: target.agent_id,
        environment: target.environment,
        configuration: target.configuration,
        rolledBackFrom: active?.id,
        restoredFrom: target.id,
      })
    })
    return c.json({ data: deployment }, 201)
  })
