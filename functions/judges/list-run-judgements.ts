import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'
import { defineRoute } from '../_core/route.ts'
import { listRunJudgements } from './queries.ts'
import { Judgement, RunParams } from './schemas.ts'
import { z } from '@hono/zod-openapi'

export const listRunJudgementsRoute = defineRoute({
  method: 'get',
  path: '/runs/{id}/judgements',
  scope: 'runs:read',
  tags: ['Judges'],
  summary: 'List a run’s judgements',
  description:
    'One judgement per judge of the run’s agent, written in the background once the run completes (oldest first); empty ' +
    'until then, and for an agent without judges.',
  request: { params: RunParams },
  responses: {
    200: { description: 'The run’s judgements', content: { 'application/json': { schema: z.object({ data: z.array(Judgement) }) } } },
  },
})

export const registerListRunJudgements = (api: Api) =>
  api.openapi(listRunJudgementsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const judgements = await withTenant(tenantOf(c), (tx) => listRunJudgements(tx, id))
    if (!judgements) throw notFound('Run')
    return c.json({ data: judgements }, 200)
  })
