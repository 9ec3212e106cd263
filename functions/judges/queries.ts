import type { Tx } from '../_core/db.ts'
import { notFound } from '../_core/errors.ts'

export interface JudgeRow {
  id: string
  agent_id: string
  name: string
  kind: 'model' | 'rule'
  rubric: string | null
  rule: Record<string, unknown> | null
  threshold: number
  model: string | null
  created_at: string
}

const columns = (tx: Tx) => tx`
  j.id, j.agent_id, j.name, j.kind, j.rubric, j.rule, j.threshold::float8 as threshold, j.model,
  to_json(j.created_at) #>> '{}' as created_at`

const position = (tx: Tx) => tx`to_char(j.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '_' || j.id as position`

/** Newest first; RLS keeps an agent key to its own agent's judges. */
export function listJudges(tx: Tx, q: { agent_id?: string; limit: number; cursor?: string }) {
  const [at, id] = q.cursor?.split('_') ?? []
  return tx<(JudgeRow & { position: string })[]>`
    select ${columns(tx)}, ${position(tx)} from agentry.judges j
    where true
      ${q.agent_id ? tx`and j.agent_id = ${q.agent_id}` : tx``}
      ${q.cursor ? tx`and (j.created_at, j.id) < (${at}::timestamptz, ${id}::uuid)` : tx``}
    order by j.created_at desc, j.id desc
    limit ${q.limit + 1}`
}

export async function findJudge(tx: Tx, id: string): Promise<JudgeRow | undefined> {
  const [row] = await tx<JudgeRow[]>`select ${columns(tx)} from agentry.judges j where j.id = ${id}`
  return row
}

/** An agent the credential cannot reach fails the foreign key or the tenant policy: answered as not found. */
export async function insertJudge(
  tx: Tx,
  orgId: string,
  j: { agent_id: string; name: string; kind: string; rubric?: string; rule?: Record<string, unknown>; threshold: number; model?: string },
): Promise<JudgeRow> {
  const row = {
    org_id: orgId,
    agent_id: j.agent_id,
    name: j.name,
    kind: j.kind,
    rubric: j.rubric ?? null,
    rule: j.rule ? tx.json(j.rule as never) : null,
    threshold: j.threshold,
    model: j.model ?? null,
  }
  const [created] = await tx<{ id: string }[]>`
    insert into agentry.judges ${tx(row, ...(Object.keys(row) as never[]))}
    returning id`.catch((error: { code?: string }) => {
    if (error.code === '23503' || error.code === '42501') throw notFound('Agent')
    throw error
  })
  const judge = await findJudge(tx, created.id)
  if (!judge) throw notFound('Judge')
  return judge
}

export async function deleteJudge(tx: Tx, id: string): Promise<JudgeRow | undefined> {
  const judge = await findJudge(tx, id)
  if (!judge) return undefined
  const deleted = await tx`delete from agentry.judges where id = ${id}`
  return deleted.count === 1 ? judge : undefined
}

export interface JudgementRow {
  id: string
  run_id: string
  judge_id: string | null
  judge_name: string
  kind: 'model' | 'rule'
  score: number | null
  threshold: number
  passed: boolean | null
  reasoning: string | null
  error: { code: string; message: string } | null
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cost_usd: number | null } | null
  created_at: string
}

/** The run's judgements, oldest first, or undefined when the credential cannot see the run. */
export async function listRunJudgements(tx: Tx, runId: string): Promise<JudgementRow[] | undefined> {
  const [run] = await tx<{ id: string }[]>`select id from agentry.runs where id = ${runId}`
  if (!run) return undefined
  return tx<JudgementRow[]>`
    select id, run_id, judge_id, judge_name, kind, score::float8 as score, threshold::float8 as threshold, passed, reasoning, error,
      usage, to_json(created_at) #>> '{}' as created_at
      from agentry.run_judgements where run_id = ${runId}
     order by created_at, id`
}
