import type { Context } from 'hono'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import type { Api, ApiEnv } from '../_core/server.ts'
import { refuseOtherProject } from './project.ts'
import { findRun, listSteps } from './queries.ts'
import { ProjectRunParams, RunParams, RunWithSteps } from './schemas.ts'

const declaration = {
  method: 'get' as const,
  scope: 'runs:read' as const,
  tags: ['Runs'],
  summary: 'Get a run',
  description: 'The run: its status, output, `last_error`, usage and cost, timestamps, and its steps (each model call with its usage).',
  responses: { 200: { description: 'The run with its steps', content: { 'application/json': { schema: dataOf(RunWithSteps) } } } },
}

export const getRunRoute = defineRoute({ ...declaration, path: '/runs/{id}', request: { params: RunParams } })

export const getProjectRunRoute = defineRoute({
  ...declaration,
  summary: 'Get a run (Connic path)',
  path: '/projects/{org_id}/runs/{run_id}',
  request: { params: ProjectRunParams },
  errors: { 404: 'The project is not your organisation, or it has no such run for this credential' },
})

async function getRun(c: Context<ApiEnv>, orgId: string | undefined, runId: string) {
  refuseOtherProject(c.get('principal'), orgId)
  const run = await withTenant(tenantOf(c), async (tx) => {
    const found = await findRun(tx, runId)
    return found ? { ...found, steps: await listSteps(tx, runId) } : undefined
  })
  if (!run) throw notFound('Run')
  return c.json({ data: run }, 200)
}

export const registerGetRun = (api: Api) => {
  api.openapi(getRunRoute, (c) => getRun(c, undefined, c.req.valid('param').id))
  api.openapi(getProjectRunRoute, (c) => {
    const params = c.req.valid('param')
    return getRun(c, params.org_id, params.run_id)
  })
}
