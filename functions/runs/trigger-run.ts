import type { Context } from 'hono'
import { tenantOf } from '../_core/auth.ts'
import { now } from '../_core/clock.ts'
import { withTenant } from '../_core/db.ts'
import { readEnv } from '../_core/env.ts'
import { ApiError } from '../_core/errors.ts'
import { claimIdempotencyKey, type StoredAnswer } from '../_core/idempotency.ts'
import { defineRoute } from '../_core/route.ts'
import { dataOf } from '../_core/schemas.ts'
import type { Api, ApiEnv } from '../_core/server.ts'
import { refuseOtherProject } from './project.ts'
import { agentNotTriggerable, findAgentByRef, queueRun, queueRunOf } from './queries.ts'
import { AgentRefParams, ProjectAgentParams, Run, TriggerBody } from './schemas.ts'

const declaration = {
  method: 'post' as const,
  scope: 'runs:write' as const,
  tags: ['Runs'],
  summary: 'Trigger an agent run',
  description:
    'Queues a run of the agent on `message` (with `input` and `metadata` kept beside it) and answers at once with ' +
    'the queued run; a worker executes it (queued → in_progress → completed | failed). Watch it with ' +
    'GET /runs/{id}/events or read it with GET /runs/{id}. A run still queued after RUN_QUEUE_TTL_SECONDS (default ' +
    'an hour) is expired instead of run. Send `Idempotency-Key` to make a retry answer the first run instead of ' +
    'queueing another.',
  errors: {
    404: 'No agent with that id or name for this credential',
    409: 'The agent is paused, several agents have that name, or the Idempotency-Key was used for another request or is still being answered',
  },
  responses: { 202: { description: 'The queued run', content: { 'application/json': { schema: dataOf(Run) } } } },
}

export const triggerRunRoute = defineRoute({
  ...declaration,
  path: '/agents/{id}/trigger',
  request: { params: AgentRefParams, body: { content: { 'application/json': { schema: TriggerBody } } } },
})

export const triggerProjectRunRoute = defineRoute({
  ...declaration,
  summary: 'Trigger an agent run (Connic path)',
  path: '/projects/{org_id}/agents/{agent_name}/trigger',
  request: { params: ProjectAgentParams, body: { content: { 'application/json': { schema: TriggerBody } } } },
  errors: { ...declaration.errors, 404: 'The project is not your organisation, or it has no such agent for this credential' },
})

/** How long a run may wait in the queue before it is expired instead of run. */
function queueTtlSeconds(): number {
  const seconds = Number(readEnv('RUN_QUEUE_TTL_SECONDS') ?? 3600)
  return Number.isFinite(seconds) && seconds > 0 ? seconds : 3600
}

async function trigger(c: Context<ApiEnv>, orgId: string | undefined, agentRef: string, body: typeof TriggerBody._output) {
  const p = c.get('principal')
  refuseOtherProject(p, orgId)
  const tenant = tenantOf(c)
  const key = c.req.header('idempotency-key')
  const idempotency =
    key === undefined
      ? null
      : await claimIdempotencyKey(tenant, key, 'POST /agents/{id}/trigger', { agent: agentRef, ...body }, async (tx) => {
          await findAgentByRef(tx, agentRef)
        })
  if (idempotency?.kind === 'replay') return c.json(idempotency.answer.body as never, idempotency.answer.status as 202)
  const remember = async (answer: StoredAnswer | null) => {
    if (idempotency?.kind !== 'first') return
    if (answer) await idempotency.complete(answer)
    else await idempotency.abandon()
  }
  try {
    const queued = {
      orgId: p.orgId,
      keyId: p.keyId,
      message: body.message,
      input: body.input,
      metadata: body.metadata ?? {},
      environment: body.environment ?? null,
      expiresAt: new Date(now() + queueTtlSeconds() * 1000),
    }
    // Most triggers name an agent that can run: its run and job are queued in one statement, the request's
    // only round trip to the database. The others roll back, and a second transaction finds out why.
    const run = await withTenant(tenant, (tx) => queueRunOf(tx, agentRef, queued)).then(
      ([run]) => run,
      (error) => {
        if (!agentNotTriggerable(error)) throw error
        return withTenant(tenant, async (tx) => {
          const agent = await findAgentByRef(tx, agentRef)
          if (agent.status === 'paused')
            throw new ApiError('conflict', 'The agent is paused; resume it (PATCH /agents/{id}) to trigger runs.')
          return queueRun(tx, { ...queued, agentId: agent.id })
        })
      },
    )
    if (idempotency === null) return c.json({ data: run }, 202)
    // Stored as JSON text would send it: a replay answers exactly what the first request did.
    const answer = JSON.parse(JSON.stringify({ data: run }))
    await remember({ status: 202, body: answer })
    return c.json(answer, 202)
  } catch (error) {
    await remember(null)
    throw error
  }
}

export const registerTriggerRun = (api: Api) => {
  api.openapi(triggerRunRoute, (c) => trigger(c, undefined, c.req.valid('param').id, c.req.valid('json')))
  api.openapi(triggerProjectRunRoute, (c) => {
    const params = c.req.valid('param')
    return trigger(c, params.org_id, params.agent_name, c.req.valid('json'))
  })
}
