// The job that judges a completed run (kind `runs.judge`, payload { run_id }), enqueued by a trigger when a
// run of an agent with judges completes (sql/20261130000033_judges_deployments.sql). Each judge not yet heard
// writes one judgement: a rule judge offline, a model judge by asking the configured model provider for
// `{ score, reasoning }`, its call counted in the usage ledger with the run and refused once a budget is
// spent. The run itself is never touched: a judge that cannot score says why in its judgement. Only a
// provider down or unreachable is tried again.
import { assertWithinBudget } from '../_core/budgets.ts'
import { readEnv } from '../_core/env.ts'
import { ApiError } from '../_core/errors.ts'
import type { Job, JobKind } from '../_core/jobs/types.ts'
import { PermanentJobError } from '../_core/jobs/types.ts'
import { completeJson } from '../_core/llm/json.ts'
import { ProviderError } from '../_core/llm/openai-compatible.ts'
import { chatProvider } from '../_core/llm/provider.ts'
import type { ChatProvider } from '../_core/llm/types.ts'
import type { Sql } from '../_core/db.ts'
import {
  findRunToJudge,
  type JudgeToApply,
  judgesStillToApply,
  recordJudgingUsage,
  type RunToJudge,
  storeJudgement,
} from './judging-queries.ts'
import { scoreByRule } from './rules.ts'

export const judgeRunKind = 'runs.judge'

/** The most of a run's message and output a model judge is shown. */
const maxChars = 24_000

const verdictSchema = {
  type: 'object',
  properties: {
    score: { type: 'number', minimum: 0, maximum: 1 },
    reasoning: { type: 'string' },
  },
  required: ['score', 'reasoning'],
  additionalProperties: false,
}

/** The model provider the environment configures, or null: the offline chat model cannot judge. */
const configuredProvider = () => (readEnv('LLM_BASE_URL') ? chatProvider() : null)

function runIdOf(job: Job): string {
  const id = job.payload.run_id
  if (typeof id !== 'string') throw new PermanentJobError('The job names no run')
  return id
}

/** The job kind, with the provider the environment configures (or, for a test, the one given), looked up at each run. */
export function judgeRunJob(provider: () => ChatProvider | null = configuredProvider): JobKind {
  return {
    run: (job, ctx) => judgeRun(job, ctx.sql, provider(), ctx.signal),
    async failed(job, error, { sql }) {
      // The provider stayed down through every attempt: the judges still unheard say so.
      const id = job.payload.run_id
      if (typeof id !== 'string') return
      const run = await findRunToJudge(sql, job.orgId, id)
      if (!run) return
      for (const judge of await judgesStillToApply(sql, job.orgId, run)) {
        await storeJudgement(sql, {
          orgId: job.orgId,
          run,
          judge,
          score: null,
          reasoning: null,
          error: { code: 'provider_error', message: error.slice(0, 2000) },
          usage: null,
        })
      }
    },
  }
}

async function judgeRun(job: Job, sql: Sql, provider: ChatProvider | null, signal: AbortSignal): Promise<void> {
  const run = await findRunToJudge(sql, job.orgId, runIdOf(job))
  if (run?.status !== 'completed') return
  for (const judge of await judgesStillToApply(sql, job.orgId, run)) {
    if (judge.kind === 'rule') {
      await storeJudgement(sql, { orgId: job.orgId, run, judge, ...ruleVerdict(judge, run) })
    } else {
      await judgeByModel(sql, job.orgId, run, judge, provider, signal)
    }
  }
}

/** A rule's verdict; a schema that passed the route's check can still fail on a value (a bad `pattern`): said so. */
function ruleVerdict(judge: JudgeToApply, run: RunToJudge) {
  try {
    return { ...scoreByRule(judge.rule ?? {}, run.output ?? ''), error: null, usage: null }
  } catch {
    return {
      score: null,
      reasoning: null,
      error: { code: 'invalid_rule', message: "The judge's rule could not be applied to the output." },
      usage: null,
    }
  }
}

async function judgeByModel(
  sql: Sql,
  orgId: string,
  run: RunToJudge,
  judge: JudgeToApply,
  provider: ChatProvider | null,
  signal: AbortSignal,
): Promise<void> {
  const unscored = (code: string, message: string) =>
    storeJudgement(sql, { orgId, run, judge, score: null, reasoning: null, error: { code, message }, usage: null })
  if (!provider) return unscored('no_model_provider', 'No model provider is configured (LLM_BASE_URL), so a model judge cannot score.')
  // A judge's call is a model call like the run's own: a spent budget refuses it, and the judgement says so.
  try {
    await assertWithinBudget(sql, { orgId, agentId: run.agent_id })
  } catch (error) {
    if (error instanceof ApiError && error.code === 'budget_exceeded') return unscored('budget_exceeded', error.message)
    throw error
  }
  const model = judge.model ?? provider.defaultModel
  let answer: Awaited<ReturnType<typeof completeJson>>
  try {
    answer = await completeJson(
      provider,
      {
        model,
        temperature: 0,
        messages: [
          {
            role: 'system',
            content:
              'You judge the answer an AI agent gave to a task, against a rubric. Score how well the answer meets the rubric ' +
              'from 0 (not at all) to 1 (fully), and say why in a sentence or two. Answer with one JSON object ' +
              '{"score": number, "reasoning": string} and nothing else.',
          },
          {
            role: 'user',
            content: `Rubric:\n${judge.rubric ?? ''}\n\nTask given to the agent:\n${clip(run.message)}\n\nThe agent's answer:\n${clip(run.output ?? '')}`,
          },
        ],
      },
      { name: 'judgement', schema: verdictSchema },
      signal,
    )
  } catch (error) {
    // A provider refusing this request would refuse it again; one down or unreachable is tried again later.
    if (
      error instanceof ProviderError &&
      error.providerStatus !== null &&
      error.providerStatus < 500 &&
      ![408, 429].includes(error.providerStatus)
    ) {
      return unscored('provider_error', error.message)
    }
    throw error
  }
  const { completion, value } = answer
  const verdict = verdictOf(value)
  const { promptTokens, completionTokens } = completion.usage
  // The judgement and what it cost are written together: a retry after a crash between them would pay twice
  // and count once, or count twice.
  await sql.begin(async (tx) => {
    const cost = await recordJudgingUsage(tx, {
      orgId,
      agentId: run.agent_id,
      runId: run.id,
      provider: provider.name,
      model: completion.model,
      requestedModel: model,
      usage: completion.usage,
    })
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      cost_usd: cost,
    }
    await storeJudgement(tx, {
      orgId,
      run,
      judge,
      ...(verdict ?? { score: null, reasoning: null }),
      error: verdict
        ? null
        : { code: 'invalid_judgement', message: 'The model did not answer with a score from 0 to 1 and its reasoning.' },
      usage,
    })
  })
}

/** The model's answer as a verdict, or null when it is not one. */
function verdictOf(value: unknown): { score: number; reasoning: string } | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null
  const { score, reasoning } = value as Record<string, unknown>
  if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) return null
  return { score, reasoning: typeof reasoning === 'string' ? reasoning.slice(0, 10_000) : '' }
}

const clip = (text: string) => (text.length > maxChars ? text.slice(0, maxChars) : text)
