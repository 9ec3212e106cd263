// The runs.judge job's SQL, on the service connection: every statement names the job's organisation.
import type { Db, Sql } from '../_core/db.ts'
import type { Usage } from '../_core/llm/types.ts'

export interface RunToJudge {
  id: string
  agent_id: string
  status: string
  message: string
  output: string | null
}

export interface JudgeToApply {
  id: string
  name: string
  kind: 'model' | 'rule'
  rubric: string | null
  rule: Record<string, unknown> | null
  threshold: number
  model: string | null
}

export async function findRunToJudge(sql: Sql, orgId: string, runId: string): Promise<RunToJudge | undefined> {
  const [row] = await sql<RunToJudge[]>`
    select id, agent_id, status, message, output from agentry.runs where id = ${runId} and org_id = ${orgId}`
  return row
}

/** The agent's judges that have not judged the run yet (a retried job skips those that have). */
export function judgesStillToApply(sql: Sql, orgId: string, run: RunToJudge): Promise<JudgeToApply[]> {
  return sql<JudgeToApply[]>`
    select j.id, j.name, j.kind, j.rubric, j.rule, j.threshold::float8 as threshold, j.model
      from agentry.judges j
     where j.org_id = ${orgId} and j.agent_id = ${run.agent_id}
       and not exists (select 1 from agentry.run_judgements x where x.run_id = ${run.id} and x.judge_id = j.id)
     order by j.created_at, j.id`
}

export interface JudgementToStore {
  orgId: string
  run: RunToJudge
  judge: JudgeToApply
  score: number | null
  reasoning: string | null
  error: { code: string; message: string } | null
  usage: Record<string, unknown> | null
}

export async function storeJudgement(db: Db, j: JudgementToStore): Promise<void> {
  const passed = j.score === null ? null : j.score >= j.judge.threshold
  await db`
    insert into agentry.run_judgements (org_id, run_id, agent_id, judge_id, judge_name, kind, score, threshold, passed, reasoning, error, usage)
    values (${j.orgId}, ${j.run.id}, ${j.run.agent_id}, ${j.judge.id}, ${j.judge.name}, ${j.judge.kind}, ${j.score}, ${j.judge.threshold},
            ${passed}, ${j.reasoning}, ${j.error ? db.json(j.error) : null}, ${j.usage ? db.json(j.usage as never) : null})
    on conflict (run_id, judge_id) do nothing`
}

/**
 * Writes a model judge's call to the usage ledger with its run, as chat writes its own: priced by the model
 * that answered or else the one asked for. Returns the cost, null when neither has a price.
 */
export async function recordJudgingUsage(
  db: Db,
  u: { orgId: string; agentId: string; runId: string; provider: string; model: string; requestedModel: string; usage: Usage },
): Promise<number | null> {
  const { promptTokens, completionTokens, estimated } = u.usage
  const [row] = await db<{ cost_usd: number | null }[]>`
    insert into agentry.usage_records (org_id, agent_id, run_id, provider, model, prompt_tokens, completion_tokens, estimated, cost_usd)
    values (${u.orgId}, ${u.agentId}, ${u.runId}, ${u.provider}, ${u.model}, ${promptTokens}, ${completionTokens}, ${estimated},
            coalesce(agentry.usage_cost(${u.model}, ${promptTokens}, ${completionTokens}),
                     agentry.usage_cost(${u.requestedModel}, ${promptTokens}, ${completionTokens})))
    returning cost_usd::float8 as cost_usd`
  return row.cost_usd
}
