import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { pageOf } from '../_core/paging.ts'
import { defineRoute } from '../_core/route.ts'
import { cursorPage } from '../_core/schemas.ts'
import { listDeployments } from './queries.ts'
import { Deployment, DeploymentQuery } from './schemas.ts'

export const listDeploymentsRoute = defineRoute({
  method: 'get',
  path: '/deployments',
  scope: 'deployments:read',
  tags: ['Deployments'],
  summary: 'List deployments',
  description:
    'Newest first; page with `next_cursor`. Filter by `agent_id`, `environment` and `active` (`active=true` lists what each ' +
    'agent runs with in each environment). An agent key sees its own agent’s deployments.',
  request: { query: DeploymentQuery },
  responses: { 200: { description: 'A page of deployments', content: { 'application/json': { schema: cursorPage(Deployment) } } } },
})

export const registerListDeployments = (api: Api) =>
  api.openapi(listDeploymentsRoute, async (c) => {
    const q = c.req.valid('query')
    const rows = await withTenant(tenantOf(c), (tx) => listDeployments(tx, q))
    return c.json(pageOf(rows, q.limit), 200)
  })
