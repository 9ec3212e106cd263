// A tenant's reads and writes of runs, inside its transaction: RLS keeps each to the caller's organisation
// and an agent key to its own agent's runs.
import type { Db, Tx } from '../_core/db.ts'
import { enqueueJob } from '../_core/jobs/queue.ts'
import { ApiError, notFound } from '../_core/errors.ts'
import type { RunRow, RunStepRow } from './schemas.ts'

export const executeRunKind = 'runs.execute'

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const runColumns = (db: Db) => db`
  id, agent_id, deployment_id, environment, status, message, input, metadata, output, last_error, usage,
  cost_usd::float8 as cost_usd, created_at, started_at, completed_at, cancelled_at, expires_at`

/** The agent a trigger names, by id or by name; not found when the caller cannot reach it. */
export async function findAgentByRef(tx: Tx, ref: string): Promise<{ id: string; status: string }> {
  const found = uuidShape.test(ref)
    ? await tx<{ id: string; status: string }[]>`select id, status from agentry.agents where id = ${ref}`
    : await tx<{ id: string; status: string }[]>`
        select id, status from agentry.agents where name = ${ref} order by created_at limit 2`
  const [agent] = found
  if (!agent) throw notFound('Agent')
  if (found.length > 1) throw new ApiError('conflict', `Several agents are named "${ref}"; trigger the one you mean by its id.`)
  return agent
}

interface RunToQueue {
  orgId: string
  keyId: string | null
  message: string
  input: unknown
  metadata: Record<string, unknown>
  environment: string | null
  expiresAt: Date
}

/**
 * Queues a run of the agent a trigger names and the job that executes it: one statement, unsent, so that it
 * can be the whole of the caller's transaction (withTenant then sends it with BEGIN, the audit entry and
 * COMMIT in one round trip). Fails with `agentNotTriggerable` when that agent is not one the caller can
 * trigger (not found, paused, or one of several with that name): findAgentByRef then says why.
 */
export function queueRunOf(tx: Tx, agentRef: string, r: RunToQueue) {
  return tx<RunRow[]>`
    select ${runColumns(tx)}
    from agentry.trigger_run(${r.orgId}, ${agentRef}, ${r.keyId}, ${r.environment}, ${r.message},
      ${r.input === undefined ? null : tx.json(r.input as never)}, ${tx.json(r.metadata as never)}, ${r.expiresAt})`
}

/** The error queueRunOf fails with when its agent is not one the caller can trigger. */
export function agentNotTriggerable(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null
  return e?.name === 'PostgresError' && e.code === 'P0002'
}

/** Queues a run and the job that executes it, in the caller's transaction: both commit or neither does. */
export async function queueRun(tx: Tx, r: RunToQueue & { agentId: string }): Promise<RunRow> {
  const [run] = await tx<RunRow[]>`
    insert into agentry.runs (org_id, agent_id, key_id, environment, message, input, metadata, expires_at)
    values (${r.orgId}, ${r.agentId}, ${r.keyId}, ${r.environment}, ${r.message},
            ${r.input === undefined ? null : tx.json(r.input as never)}, ${tx.json(r.metadata as never)}, ${r.expiresAt})
    returning ${runColumns(tx)}`
  await enqueueJob(tx, executeRunKind, { run_id: run.id })
  return run
}

export async function findRun(tx: Tx, id: string): Promise<RunRow | undefined> {
  const [run] = await tx<RunRow[]>`select ${runColumns(tx)} from agentry.runs where id = ${id}`
  return run
}

export async function listSteps(tx: Db, runId: string): Promise<RunStepRow[]> {
  return tx<RunStepRow[]>`
    select seq, kind, model, status, usage, output, error, started_at, completed_at
    from agentry.run_steps where run_id = ${runId} order by seq`
}

export async function listRuns(
  tx: Tx,
  q: { limit: number; cursor?: string; agentId?: string; status?: string; createdAfter?: string },
): Promise<(RunRow & { position: string })[]> {
  return tx<(RunRow & { position: string })[]>`
    select ${runColumns(tx)}, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || id as position
    from agentry.runs
    where true
      ${q.agentId ? tx`and agent_id = ${q.agentId}` : tx``}
      ${q.status ? tx`and status = ${q.status}` : tx``}
      ${q.createdAfter ? tx`and created_at > ${q.createdAfter}::timestamptz` : tx``}
      ${q.cursor ? tx`and (created_at, id) < (${q.cursor.split('_')[0]}::timestamptz, ${q.cursor.split('_')[1]}::uuid)` : tx``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`
}

/** Cancels a queued or running run; a finished one is a conflict. */
export async function cancelRun(tx: Tx, id: string): Promise<RunRow> {
  const [run] = await tx<RunRow[]>`
    update agentry.runs set status = 'cancelled'
    where id = ${id} and status in ('queued', 'in_progress')
    returning ${runColumns(tx)}`
  if (run) return run
  const found = await findRun(tx, id)
  if (!found) throw notFound('Run')
  throw new ApiError('conflict', `The run is ${found.status} already; only a queued or running run can be cancelled.`)
}

/**
 * The run's events after `afterId`, oldest first, made from the run and its steps, which keep the number
 * each event was given when it happened (runs and steps from before that have their events as rows).
 */
export async function eventsAfter(
  tx: Tx,
  runId: string,
  afterId: number,
): Promise<{ id: string; type: string; data: Record<string, unknown> }[]> {
  return tx<{ id: string; type: string; data: Record<string, unknown> }[]>`
    select id::text, type, data from (
      select r.queued_event_id as id, 'run.queued' as type, agentry.run_queued_json(r) as data
      from agentry.runs r where r.id = ${runId} and r.queued_event_id > ${afterId}
      union all
      select r.started_event_id, 'run.in_progress', agentry.run_started_json(r)
      from agentry.runs r where r.id = ${runId} and r.started_event_id > ${afterId}
      union all
      select r.ended_event_id, 'run.' || r.status, agentry.run_json(r)
      from agentry.runs r where r.id = ${runId} and r.ended_event_id > ${afterId}
      union all
      select s.started_event_id, 'run.step.in_progress', agentry.run_step_started_json(s)
      from agentry.run_steps s where s.run_id = ${runId} and s.started_event_id > ${afterId}
      union all
      select s.ended_event_id, 'run.step.' || s.status, agentry.run_step_json(s)
      from agentry.run_steps s where s.run_id = ${runId} and s.ended_event_id > ${afterId}
      union all
      select id, type, data from agentry.run_events where run_id = ${runId} and id > ${afterId}
    ) e
    order by id limit 500`
}
