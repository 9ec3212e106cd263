import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { requireDeployment } from './queries.ts'
import { Deployment, DeploymentParams } from './schemas.ts'

export const getDeploymentRoute = defineRoute({
  method: 'get',
  path: '/deployments/{id}',
  scope: 'deployments:read',
  tags: ['Deployments'],
  summary: 'Get a deployment',
  request: { params: DeploymentParams },
  responses: { 200: { description: 'The deployment', content: { 'application/json': { schema: dataOf(Deployment) } } } },
})

export const registerGetDeployment = (api: Api) =>
  api.openapi(getDeploymentRoute, async (c) => {
    const { id } = c.req.valid('param')
    const deployment = await withTenant(tenantOf(c), (tx) => requireDeployment(tx, id))
    return c.json({ data: deployment }, 200)
  })
