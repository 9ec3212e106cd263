import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import type { Api } from '../_core/server.ts'
import { cancelRun } from './queries.ts'
import { Run, RunParams } from './schemas.ts'

export const cancelRunRoute = defineRoute({
  method: 'post',
  path: '/runs/{id}/cancel',
  scope: 'runs:write',
  tags: ['Runs'],
  summary: 'Cancel a run',
  description:
    'A queued run is never started; a running one is stopped, its model call under way cut short within a second ' +
    '(the step keeps what was written, and the usage is recorded). The run is `cancelled` from now on.',
  request: { params: RunParams },
  errors: { 409: 'The run has finished already (completed, failed, cancelled or expired)' },
  responses: { 200: { description: 'The cancelled run', content: { 'application/json': { schema: dataOf(Run) } } } },
})

export const registerCancelRun = (api: Api) =>
  api.openapi(cancelRunRoute, async (c) => {
    const run = await withTenant(tenantOf(c), (tx) => cancelRun(tx, c.req.valid('param').id))
    return c.json({ data: run }, 200)
  })
