// The job that executes a run (`runs.execute` { run_id }): queued → in_progress → completed | failed, one
// model call a step, each step's usage written to the ledger with the run. The run's status is re-read
// before every step, so a cancel stops it there; a run left queued past its expires_at is expired instead.
// It runs on the service connection, scoping every statement to the job's organisation itself.
import { assertWithinBudget } from '../_core/budgets.ts'
import { databaseNow } from '../_core/clock.ts'
import type { Sql } from '../_core/db.ts'
import { ApiError } from '../_core/errors.ts'
import { unflushed } from '../_core/jobs/queue.ts'
import type { Job, JobContext, JobKind } from '../_core/jobs/types.ts'
import { chatProvider } from '../_core/llm/provider.ts'
import { estimateTokens } from '../_core/llm/tokens.ts'
import type { ChatProvider, ChatRequest, Completion, Usage } from '../_core/llm/types.ts'
import { unrefTimer } from '../_core/timers.ts'
import { executeRunKind } from './queries.ts'

export { executeRunKind }

/** How often a model call under way checks whether its run was cancelled. */
const cancelCheckMs = 500

interface Configuration {
  model: string | null
  instructions: string | null
  temperature: number | null
  max_output_tokens: number | null
}

interface RunToExecute {
  id: string
  agent_id: string
  status: string
  message: string
  input: unknown
  configuration: Configuration
  expired: boolean
}

interface RunError {
  code: string
  message: string
}

export function executeRunJob(provider: () => ChatProvider = chatProvider): JobKind {
  return {
    run: (job, ctx) => executeRun(job, ctx, provider()),
    // The job gave up (its runner kept stopping): the run must not stay in progress for ever.
    async failed(job, _error, { sql }) {
      const runId = runIdOf(job)
      if (!runId) return
      await finish(sql, job.orgId, runId, 'failed', {
        last_error: { code: 'internal', message: 'The run could not be executed; trigger it again.' },
      })
    },
  }
}

function runIdOf(job: Job): string | null {
  const id = job.payload.run_id
  return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? id : null
}

async function executeRun(job: Job, ctx: JobContext, provider: ChatProvider): Promise<void> {
  const { sql } = ctx
  const runId = runIdOf(job)
  if (!runId) return
  const began = Date.now()
  // Most runs are queued, due and within budget: they start, and open their first step, in the statement that
  // reads them.
  const started = await startRun(sql, job.orgId, runId, provider)
  let run: RunToExecute | undefined = started
  let seq = 1
  if (!run) {
    const found = await loadRun(sql, job.orgId, runId)
    if (found?.status !== 'in_progress') {
      if (found?.status === 'queued' && found.expired) {
        await sql`
          update agentry.runs set status = 'expired',
            last_error = ${sql.json({ code: 'expired', message: 'The run waited in the queue longer than its time to live.' })}
          where id = ${found.id} and org_id = ${job.orgId} and status = 'queued'`
      }
      return
    }
    // An earlier attempt's runner stopped mid-step: that step will never finish, and the run goes on after it.
    await sql`
      update agentry.run_steps set status = 'failed', completed_at = now(),
        error = ${sql.json({ code: 'interrupted', message: 'The worker executing this step stopped; the run was resumed.' })}
      where run_id = ${found.id} and status = 'in_progress'`
    run = found
    seq = (await lastSeq(sql, run.id)) + 1
  }
  const request = requestOf(run, provider)
  // One model call today; tool calls will make more steps, each checked the same way first.
  if (!started?.opened) {
    try {
      await assertWithinBudget(sql, { orgId: job.orgId, agentId: run.agent_id })
    } catch (error) {
      if (error instanceof ApiError && error.code === 'budget_exceeded') {
        await finish(sql, job.orgId, run.id, 'failed', { output: null, last_error: { code: error.code, message: error.message } })
        return
      }
      throw error
    }
  }
  const step = await callModel(sql, job.orgId, run, seq, provider, request, ctx.signal, { opened: started?.opened ?? false, began })
  // Cancelled before the step began: nothing was asked, and the run keeps its cancellation.
  if (step === null) return
  if (step.error) {
    const totals = { prompt: 0, completion: 0, cost: 0 as number | null }
    await finish(sql, job.orgId, run.id, 'failed', { output: null, last_error: step.error, usage: usageOf(totals, began) })
  }
  // A step that succeeded finished the run in its own closing statement.
}

/**
 * Starts a queued run still within its time to live, answering it; nothing when it is not such a run. Unless
 * a budget covering it is spent, the run's first step is opened in the same statement (`opened`); the
 * statement's triggers record the run's start before the step's. Not flushed at once: a start a crash loses
 * is a queued run started again, and the statement that ends the run flushes it.
 */
async function startRun(
  sql: Sql,
  orgId: string,
  runId: string,
  provider: ChatProvider,
): Promise<(RunToExecute & { opened: boolean }) | undefined> {
  return starts(sql)({ orgId, runId, defaultModel: provider.defaultModel })
}

/** Starts runs, several at once (see startRun). */
const starts = batches<{ orgId: string; runId: string; defaultModel: string }, RunToExecute & { opened: boolean }>(
  async (sql, rs) => {
    const rows = await sql<(RunToExecute & { opened: boolean })[]>`
      with d as (
        select * from unnest(${rs.map((r) => r.runId)}::uuid[], ${rs.map((r) => r.orgId)}::uuid[], ${rs.map((r) => r.defaultModel)}::text[])
          as d(run_id, org_id, default_model)
      ),
      started as (
        update agentry.runs r set status = 'in_progress'
        from d
        where r.id = d.run_id and r.org_id = d.org_id and r.status = 'queued'
          and not coalesce(r.expires_at <= coalesce(${databaseNow()}::timestamptz, now()), false)
        returning r.id, r.org_id, r.agent_id, r.status, r.message, r.input, r.configuration, d.default_model
      ),
      opened as (
        insert into agentry.run_steps (run_id, org_id, agent_id, seq, kind, model)
        select s.id, s.org_id, s.agent_id, 1, 'model_call', coalesce(s.configuration ->> 'model', s.default_model)
        from started s
        where not exists (select 1 from agentry.budget_refusal(s.org_id, s.agent_id, ${databaseNow()}))
        returning run_id
      )
      select s.id, s.agent_id, s.status, s.message, s.input, s.configuration, false as expired,
             exists (select 1 from opened o where o.run_id = s.id) as opened
      from started s, ${unflushed(sql)}`
    return new Map(rows.map((r) => [r.id, r]))
  },
  (r) => r.runId,
)

async function loadRun(sql: Sql, orgId: string, runId: string): Promise<RunToExecute | undefined> {
  const [run] = await sql<RunToExecute[]>`
    select id, agent_id, status, message, input, configuration,
           coalesce(expires_at <= coalesce(${databaseNow()}::timestamptz, now()), false) as expired
    from agentry.runs where id = ${runId} and org_id = ${orgId}`
  return run
}

async function lastSeq(sql: Sql, runId: string): Promise<number> {
  const [row] = await sql<{ seq: number }[]>`select coalesce(max(seq), 0)::int as seq from agentry.run_steps where run_id = ${runId}`
  return row.seq
}

async function stillRunning(sql: Sql, orgId: string, runId: string): Promise<boolean> {
  const [row] = await sql<{ status: string }[]>`select status from agentry.runs where id = ${runId} and org_id = ${orgId}`
  return row?.status === 'in_progress'
}

function requestOf(run: RunToExecute, provider: ChatProvider): ChatRequest {
  const c = run.configuration
  const input = run.input === null || run.input === undefined ? '' : `\n\nInput (JSON):\n${JSON.stringify(run.input)}`
  return {
    model: c.model ?? provider.defaultModel,
    messages: [
      ...(c.instructions ? [{ role: 'system' as const, content: c.instructions }] : []),
      { role: 'user' as const, content: run.message + input },
    ],
    temperature: c.temperature,
    maxTokens: c.max_output_tokens,
  }
}

type StepOutcome = { error: null; completion: Completion; cost: number | null } | { error: RunError }

/**
 * One model call as a step: opened (only while the run is still in progress: null when it is not), then
 * closed with its output and usage (ledger row included) or its error.
 */
async function callModel(
  sql: Sql,
  orgId: string,
  run: RunToExecute,
  seq: number,
  provider: ChatProvider,
  request: ChatRequest,
  signal: AbortSignal,
  step: { opened: boolean; began: number },
): Promise<StepOutcome | null> {
  if (!step.opened) {
    const [opened] = await sql`
      insert into agentry.run_steps (run_id, org_id, agent_id, seq, kind, model)
      select ${run.id}, ${orgId}, ${run.agent_id}, ${seq}, 'model_call', ${request.model}
      where exists (select 1 from agentry.runs where id = ${run.id} and org_id = ${orgId} and status = 'in_progress')
      returning seq`
    if (!opened) return null
  }
  // Streamed, so that a provider that fails part-way still leaves what it wrote on the step; watched, so that
  // a cancel stops the call it lands in rather than waiting for it to end.
  // One signal for the call, aborted by the runner's or by a cancel (AbortSignal.any made two more, which
  // every run paid for in the worker's CPU).
  const call = new AbortController()
  let cancelled = false
  const stopping = () => call.abort(signal.reason)
  if (signal.aborted) stopping()
  else signal.addEventListener('abort', stopping, { once: true })
  const watching = setInterval(() => {
    stillRunning(sql, orgId, run.id).then(
      (running) => {
        if (running) return
        cancelled = true
        call.abort()
      },
      () => {},
    )
  }, cancelCheckMs)
  unrefTimer(watching)
  const abort = call.signal
  let text = ''
  let model = request.model
  let reported: Usage | null = null
  let failure: RunError | null = null
  try {
    for await (const event of provider.stream(request, abort)) {
      if (event.type === 'delta') text += event.text
      else {
        model = event.model
        reported = event.usage
      }
      if (abort.aborted) break
    }
  } catch (thrown) {
    if (signal.aborted) throw thrown
    if (!cancelled) {
      failure =
        thrown instanceof ApiError
          ? { code: thrown.code, message: thrown.message }
          : { code: 'provider_error', message: 'The model provider failed.' }
    }
  } finally {
    clearInterval(watching)
    signal.removeEventListener('abort', stopping)
  }
  if (signal.aborted) throw new Error('The runner stopped during the model call')
  if (cancelled) failure = { code: 'cancelled', message: 'The run was cancelled during this model call.' }
  if (failure && !cancelled) {
    await sql`
      update agentry.run_steps set status = 'failed', output = ${text || null}, error = ${sql.json(failure as never)}, completed_at = now()
      where run_id = ${run.id} and seq = ${seq}`
    return { error: failure }
  }
  // A call cut short by a cancel was still paid for: its usage is estimated and recorded all the same.
  const usage: Usage = reported ?? {
    promptTokens: estimateTokens(request.messages.map((m) => m.content).join('\n')),
    completionTokens: estimateTokens(text),
    estimated: true,
  }
  const completion: Completion = { text, model, usage }
  if (failure) {
    // Cancelled: the ledger row and the step's close, the run keeping its cancellation.
    await sql`
      with recorded as (
        insert into agentry.usage_records (org_id, agent_id, run_id, provider, model, prompt_tokens, completion_tokens, estimated, cost_usd)
        values (${orgId}, ${run.agent_id}, ${run.id}, ${provider.name}, ${completion.model}, ${usage.promptTokens},
                ${usage.completionTokens}, ${usage.estimated},
                coalesce(agentry.usage_cost(${completion.model}, ${usage.promptTokens}, ${usage.completionTokens}),
                         agentry.usage_cost(${request.model}, ${usage.promptTokens}, ${usage.completionTokens})))
        returning cost_usd
      )
      update agentry.run_steps set status = 'failed', model = ${completion.model}, output = ${text || null},
        usage = jsonb_build_object('prompt_tokens', ${usage.promptTokens}::int, 'completion_tokens', ${usage.completionTokens}::int,
                                   'cost_usd', (select cost_usd::float8 from recorded)),
        error = ${sql.json(failure as never)}, completed_at = now()
      where run_id = ${run.id} and seq = ${seq}`
    return { error: failure }
  }
  // The ledger row, the step's close and the run's end in one statement: all are written, or none. The run
  // ends only after its step closed, so its events come in that order; a run cancelled meanwhile keeps its
  // cancellation. Runs that end together share the statement (and its commit).
  const runUsage = usageOf({ prompt: usage.promptTokens, completion: usage.completionTokens, cost: null }, step.began)
  const cost =
    (await closings(sql)({
      runId: run.id,
      orgId,
      agentId: run.agent_id,
      seq,
      provider: provider.name,
      model: completion.model,
      requestModel: request.model,
      usage,
      text,
      runUsage,
    })) ?? null
  return { error: null, completion, cost }
}

interface Closing {
  runId: string
  orgId: string
  agentId: string
  seq: number
  provider: string
  model: string
  requestModel: string
  usage: Usage
  text: string
  runUsage: ReturnType<typeof usageOf>
}

/**
 * Writes items together: one that comes while the last batch is being written waits for it and goes in the
 * next, so a busy worker spends one statement, and one commit, on several runs. `write` answers each item's
 * outcome by its key.
 */
function batches<I, O>(write: (sql: Sql, items: I[]) => Promise<Map<string, O>>, keyOf: (item: I) => string) {
  const bySql = new WeakMap<Sql, (item: I) => Promise<O | undefined>>()
  return (sql: Sql) => {
    const known = bySql.get(sql)
    if (known) return known
    let pending: { item: I; done: (outcome: O | undefined) => void; fail: (error: unknown) => void }[] = []
    let writing = false
    const flush = async () => {
      writing = true
      while (pending.length > 0) {
        const batch = pending
        pending = []
        try {
          const outcomes = await write(
            sql,
            batch.map((b) => b.item),
          )
          for (const b of batch) b.done(outcomes.get(keyOf(b.item)))
        } catch (error) {
          for (const b of batch) b.fail(error)
        }
      }
      writing = false
    }
    const add = (item: I) =>
      new Promise<O | undefined>((done, fail) => {
        pending.push({ item, done, fail })
        if (!writing) void flush()
      })
    bySql.set(sql, add)
    return add
  }
}

/** Closes succeeded model calls, several runs' at once; answers each call's cost. */
const closings = batches<Closing, number | null>(
  (sql, cs) => closeSteps(sql, cs),
  (c) => c.runId,
)

async function closeSteps(sql: Sql, cs: Closing[]): Promise<Map<string, number | null>> {
  const rows = await sql<{ run_id: string; cost: number | null }[]>`
    with d as (
      select * from unnest(${cs.map((c) => c.runId)}::uuid[], ${cs.map((c) => c.orgId)}::uuid[], ${cs.map((c) => c.agentId)}::uuid[],
        ${cs.map((c) => c.seq)}::int[], ${cs.map((c) => c.provider)}::text[], ${cs.map((c) => c.model)}::text[],
        ${cs.map((c) => c.requestModel)}::text[], ${cs.map((c) => c.usage.promptTokens)}::int[],
        ${cs.map((c) => c.usage.completionTokens)}::int[], ${cs.map((c) => String(c.usage.estimated))}::text[]::boolean[],
        ${cs.map((c) => c.text)}::text[], ${cs.map((c) => JSON.stringify(c.runUsage))}::text[])
        as d(run_id, org_id, agent_id, seq, provider, model, request_model, prompt, completion, estimated, output, usage)
    ),
    recorded as (
      insert into agentry.usage_records (org_id, agent_id, run_id, provider, model, prompt_tokens, completion_tokens, estimated, cost_usd)
      select org_id, agent_id, run_id, provider, model, prompt, completion, estimated,
             coalesce(agentry.usage_cost(model, prompt, completion), agentry.usage_cost(request_model, prompt, completion))
      from d
      returning run_id, cost_usd
    ),
    closed as (
      update agentry.run_steps s set status = 'completed', model = d.model, output = nullif(d.output, ''),
        usage = jsonb_build_object('prompt_tokens', d.prompt, 'completion_tokens', d.completion,
                                   'cost_usd', (select r.cost_usd::float8 from recorded r where r.run_id = d.run_id)),
        error = null, completed_at = now()
      from d
      where s.run_id = d.run_id and s.seq = d.seq
      returning s.run_id
    ),
    finished as (
      update agentry.runs u set status = 'completed', output = d.output, last_error = null,
        cost_usd = (select r.cost_usd from recorded r where r.run_id = d.run_id),
        usage = d.usage::jsonb || jsonb_build_object('total_price', (select round(r.cost_usd, 8)::text from recorded r where r.run_id = d.run_id))
      from d
      where u.id = d.run_id and u.org_id = d.org_id and u.status in ('queued', 'in_progress')
        and exists (select 1 from closed c where c.run_id = d.run_id)
    )
    select run_id::text, cost_usd::float8 as cost from recorded`
  return new Map(rows.map((r) => [r.run_id, r.cost]))
}

function usageOf(t: { prompt: number; completion: number; cost: number | null }, began: number) {
  return {
    prompt_tokens: t.prompt,
    completion_tokens: t.completion,
    total_tokens: t.prompt + t.completion,
    total_price: t.cost === null ? null : t.cost.toFixed(8),
    currency: 'USD',
    latency: (Date.now() - began) / 1000,
  }
}

/** Ends a run still in progress (or queued); a run cancelled meanwhile keeps its cancellation. */
async function finish(
  sql: Sql,
  orgId: string,
  runId: string,
  status: 'completed' | 'failed',
  f: { output?: string | null; last_error?: RunError; usage?: Record<string, unknown>; cost_usd?: number | null },
): Promise<void> {
  await sql`
    update agentry.runs set status = ${status}, output = ${f.output ?? null},
      last_error = ${f.last_error ? sql.json(f.last_error as never) : null}, usage = ${f.usage ? sql.json(f.usage as never) : null},
      cost_usd = ${f.cost_usd ?? null}
    where id = ${runId} and org_id = ${orgId} and status in ('queued', 'in_progress')`
}
