import type { Api } from '../_core/server.ts'
import { tenantOf } from '../_core/auth.ts'
import { withTenant } from '../_core/db.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import { insertJudge } from './queries.ts'
import { CreateJudgeBody, Judge } from './schemas.ts'

export const createJudgeRoute = defineRoute({
  method: 'post',
  path: '/judges',
  scope: 'judges:write',
  tags: ['Judges'],
  summary: 'Attach a judge to an agent',
  description:
    'Every run of the agent that completes from now on is judged in the background; see `GET /runs/{id}/judgements`. ' +
    'A `model` judge asks the model provider to score the run’s output against its `rubric` from 0 to 1, with its ' +
    'reasoning (its call is counted in the usage ledger with the run). A `rule` judge scores offline: 1 when the output ' +
    'matches its `regex`, or is JSON conforming to its `json_schema`, else 0. A judgement passes when its score is at ' +
    'least `threshold`. Judging never changes the run.',
  request: { body: { content: { 'application/json': { schema: CreateJudgeBody } } } },
  errors: { 404: 'The agent does not exist for this credential' },
  responses: { 201: { description: 'The new judge', content: { 'application/json': { schema: dataOf(Judge) } } } },
})

export const registerCreateJudge = (api: Api) =>
  api.openapi(createJudgeRoute, async (c) => {
    const body = c.req.valid('json')
    const judge = await withTenant(tenantOf(c), (tx) => insertJudge(tx, c.get('principal').orgId, body))
    return c.json({ data: judge }, 201)
  })
