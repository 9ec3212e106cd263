import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { createJudgeRoute } from '../../functions/judges/create-judge.ts'
import { deleteJudgeRoute } from '../../functions/judges/delete-judge.ts'
import { getJudgeRoute } from '../../functions/judges/get-judge.ts'
import { judgeRunKind } from '../../functions/judges/judge-run.ts'
import { listJudgesRoute } from '../../functions/judges/list-judges.ts'
import { listRunJudgementsRoute } from '../../functions/judges/list-run-judgements.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import type { TestApi } from '../harness/api.ts'
import { type FakeLlm, startApiWithFakeModel } from '../harness/fake-llm.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
let llm: FakeLlm
let drop: () => Promise<void>
beforeAll(async () => {
  // A database of this file's own: the judging jobs it queues must be run by its runner, with its fake model.
  drop = (await isolateDatabase()).drop
  ;({ api, llm } = await startApiWithFakeModel())
})
afterAll(async () => {
  await api.close()
  await llm.close()
  await drop()
})
beforeEach(() => {
  llm.requests.length = 0
  llm.script = () => ({ reply: JSON.stringify({ score: 0.8, reasoning: 'Polite and on topic.' }) })
})

/** A judge of the agent's, made straight in the database as the route makes it. */
async function judgeOf(t: Tenant, agent: 'agent' | 'otherAgent' = 'agent'): Promise<string> {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.judges (org_id, agent_id, name, kind, rule, threshold)
    values (${t.org.id}, ${t[agent].id}, 'Says hello', 'rule', ${serviceSql().json({ regex: 'hello' })}, 0.5) returning id`
  return row.id
}

/** A queued run of the agent's, created as POST /agents/{id}/trigger creates one. */
async function runOf(t: Tenant, agent: 'agent' | 'otherAgent' = 'agent'): Promise<string> {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.runs (org_id, agent_id, message) values (${t.org.id}, ${t[agent].id}, 'Greet the customer') returning id`
  return row.id
}

/** Takes the run through in_progress to `status`, as the executor does, with its output. */
async function finish(runId: string, status: 'completed' | 'failed', output: string): Promise<void> {
  await serviceSql()`update agentry.runs set status = 'in_progress' where id = ${runId}`
  await serviceSql()`update agentry.runs set status = ${status}, output = ${output} where id = ${runId}`
}

/** Runs the queued judging jobs with the product's handler until none is left. */
async function runJudging(): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const { claimed } = await runJobBatch(serviceSql(), { handlers: { [judgeRunKind]: jobHandlers[judgeRunKind] }, budgetMs: 20_000 })
    if (claimed === 0) return
  }
}

const judgingJobs = (runId: string) =>
  serviceSql()<{ status: string }[]>`select status from agentry.jobs where kind = 'runs.judge' and payload->>'run_id' = ${runId}`

describeSecurity(listJudgesRoute, {}, () => api)
describeSecurity(
  createJudgeRoute,
  { body: (t: Tenant) => ({ agent_id: t.agent.id, name: 'Says hello', kind: 'rule', rule: { regex: 'hello' }, threshold: 0.5 }) },
  () => api,
)
describeSecurity(
  getJudgeRoute,
  { params: async (t) => ({ id: await judgeOf(t) }), otherAgentParams: async (t) => ({ id: await judgeOf(t, 'otherAgent') }) },
  () => api,
)
describeSecurity(
  deleteJudgeRoute,
  { params: async (t) => ({ id: await judgeOf(t) }), otherAgentParams: async (t) => ({ id: await judgeOf(t, 'otherAgent') }) },
  () => api,
)
describeSecurity(
  listRunJudgementsRoute,
  { params: async (t) => ({ id: await runOf(t) }), otherAgentParams: async (t) => ({ id: await runOf(t, 'otherAgent') }) },
  () => api,
)

describe('judges', () => {
  it('attaches model and rule judges to an agent, lists, gets and deletes them', async () => {
    const t = await createTenant()
    const key = await t.key()
    const model = await api.call('POST', '/judges', {
      key,
      body: { agent_id: t.agent.id, name: 'Polite', kind: 'model', rubric: 'Is the answer polite?', threshold: 0.7, model: 'gpt-4o' },
    })
    expect(model.status, JSON.stringify(model.body)).toBe(201)
    expect(model.body.data).toMatchObject({
      agent_id: t.agent.id,
      name: 'Polite',
      kind: 'model',
      rubric: 'Is the answer polite?',
      rule: null,
      threshold: 0.7,
      model: 'gpt-4o',
    })
    const schema = { type: 'object', required: ['answer'] }
    const rule = await api.call('POST', '/judges', {
      key,
      body: { agent_id: t.otherAgent.id, name: 'JSON', kind: 'rule', rule: { json_schema: schema }, threshold: 1 },
    })
    expect(rule.body.data).toMatchObject({ kind: 'rule', rule: { json_schema: schema }, rubric: null, model: null })

    const all = await api.call('GET', '/judges', { key })
    expect(all.body.data.map((j: { id: string }) => j.id)).toEqual([rule.body.data.id, model.body.data.id])
    const ofAgent = await api.call('GET', `/judges?agent_id=${t.agent.id}`, { key })
    expect(ofAgent.body.data.map((j: { id: string }) => j.id)).toEqual([model.body.data.id])
    expect((await api.call('GET', `/judges/${model.body.data.id}`, { key })).body.data).toEqual(model.body.data)

    const deleted = await api.call('DELETE', `/judges/${model.body.data.id}`, { key })
    expect(deleted.body.data).toEqual(model.body.data)
    expect((await api.call('GET', `/judges/${model.body.data.id}`, { key })).status).toBe(404)
  })

  it('refuses a judge without what its kind needs, a threshold beyond 0–1, a bad regex or an unusable schema', async () => {
    const t = await createTenant()
    const key = await t.key()
    const base = { agent_id: t.agent.id, name: 'J', threshold: 0.5 }
    const refusals: [unknown, RegExp][] = [
      [{ ...base, kind: 'model' }, /rubric: A model judge needs a rubric/],
      [{ ...base, kind: 'rule' }, /rule: A rule judge needs a rule/],
      [{ ...base, kind: 'rule', rule: { regex: 'x' }, rubric: 'r' }, /rubric: A rule judge is scored offline/],
      [{ ...base, kind: 'rule', rule: { regex: '(' } }, /not a valid regular expression/],
      [{ ...base, kind: 'rule', rule: { regex: '^(a+)+$' } }, /repeats a group that itself repeats/],
      [{ ...base, kind: 'rule', rule: { regex: '(\\w*?)*x' } }, /repeats a group that itself repeats/],
      [{ ...base, kind: 'rule', rule: { json_schema: { $ref: '#/nowhere' } } }, /not a usable JSON Schema/],
      [{ ...base, kind: 'rule', rule: { regex: 'x', json_schema: { type: 'object' } } }, /A rule is either/],
      [{ ...base, kind: 'rule', rule: { regex: 'x' }, threshold: 1.5 }, /threshold/],
    ]
    for (const [body, message] of refusals) {
      const res = await api.call('POST', '/judges', { key, body })
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toMatch(message)
    }
    const foreign = await api.call('POST', '/judges', {
      key,
      body: { ...base, agent_id: (await createTenant()).agent.id, kind: 'rule', rule: { regex: 'x' } },
    })
    expect(foreign.status).toBe(404)
    expect(foreign.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
    const agentKey = await t.key({ agent: 'agent' })
    const sibling = await api.call('POST', '/judges', {
      key: agentKey,
      body: { ...base, agent_id: t.otherAgent.id, kind: 'rule', rule: { regex: 'x' } },
    })
    expect(sibling.status).toBe(404)
  })
})

describe('judging a completed run', () => {
  async function judgedAgent(t: Tenant) {
    const key = await t.key()
    const make = async (body: Record<string, unknown>) =>
      (await api.call('POST', '/judges', { key, body: { agent_id: t.agent.id, ...body } })).body.data.id as string
    return {
      key,
      greets: await make({ name: 'Greets', kind: 'rule', rule: { regex: '^Hello\\b' }, threshold: 1 }),
      json: await make({
        name: 'JSON answer',
        kind: 'rule',
        rule: { json_schema: { type: 'object', required: ['answer'] } },
        threshold: 0.5,
      }),
      polite: await make({ name: 'Polite', kind: 'model', rubric: 'Is the answer polite?', threshold: 0.9 }),
    }
  }

  it('scores every judge: rules offline, the model by the provider, each against its threshold', async () => {
    const t = await createTenant()
    const { key, greets, json, polite } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello, how can I help?')
    expect(await judgingJobs(runId)).toEqual([{ status: 'queued' }])
    await runJudging()

    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(res.status).toBe(200)
    const byJudge = Object.fromEntries(res.body.data.map((j: { judge_id: string }) => [j.judge_id, j]))
    expect(res.body.data).toHaveLength(3)
    expect(byJudge[greets]).toMatchObject({
      run_id: runId,
      judge_name: 'Greets',
      kind: 'rule',
      score: 1,
      threshold: 1,
      passed: true,
      reasoning: 'The output matches /^Hello\\b/.',
      error: null,
      usage: null,
    })
    expect(byJudge[json]).toMatchObject({ score: 0, passed: false, reasoning: 'The output is not JSON.', error: null })
    expect(byJudge[polite]).toMatchObject({
      kind: 'model',
      score: 0.8,
      threshold: 0.9,
      passed: false,
      reasoning: 'Polite and on topic.',
      error: null,
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    })

    // One model call, asking for the verdict's shape, shown the rubric, the task and the answer.
    expect(llm.requests).toHaveLength(1)
    const request = llm.requests[0].body
    expect(request.response_format.type).toBe('json_schema')
    expect(request.response_format.json_schema.name).toBe('judgement')
    expect(request.messages[1].content).toBe(
      "Rubric:\nIs the answer polite?\n\nTask given to the agent:\nGreet the customer\n\nThe agent's answer:\nHello, how can I help?",
    )
    // The call is in the usage ledger with the run and the agent.
    const usage = await serviceSql()`
      select agent_id, model, prompt_tokens, completion_tokens from agentry.usage_records where run_id = ${runId}`
    expect(usage).toEqual([{ agent_id: t.agent.id, model: 'gpt-4o-mini', prompt_tokens: 11, completion_tokens: 7 }])
    expect(await judgingJobs(runId)).toEqual([{ status: 'succeeded' }])
  })

  it('passes a schema judge on conforming JSON output', async () => {
    const t = await createTenant()
    const { key, json } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', '{"answer": 42}')
    await runJudging()
    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(res.body.data.find((j: { judge_id: string }) => j.judge_id === json)).toMatchObject({
      score: 1,
      passed: true,
      reasoning: 'The output is JSON conforming to the schema.',
    })
  })

  it('never changes the run when a judge cannot score: its judgement says why', async () => {
    const t = await createTenant()
    const { key, polite, greets } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello there')
    const [before] = await serviceSql()`select * from agentry.runs where id = ${runId}`
    llm.script = () => ({ status: 400 })
    await runJudging()

    const [after] = await serviceSql()`select * from agentry.runs where id = ${runId}`
    expect(after).toEqual(before)
    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    const byJudge = Object.fromEntries(res.body.data.map((j: { judge_id: string }) => [j.judge_id, j]))
    expect(byJudge[polite]).toMatchObject({ score: null, passed: null, reasoning: null, usage: null, error: { code: 'provider_error' } })
    expect(byJudge[greets]).toMatchObject({ score: 1, passed: true })
    expect(await judgingJobs(runId)).toEqual([{ status: 'succeeded' }])
  })

  it("refuses a model judge's call once the agent's budget is spent, and still scores the rules", async () => {
    const t = await createTenant()
    const { key, polite, greets } = await judgedAgent(t)
    await serviceSql()`insert into agentry.budgets (org_id, agent_id, period, limit_usd) values (${t.org.id}, ${t.agent.id}, 'day', 0.01)`
    await serviceSql()`
      insert into agentry.usage_records (org_id, agent_id, provider, model, prompt_tokens, completion_tokens, cost_usd)
      values (${t.org.id}, ${t.agent.id}, 'openai-compatible', 'gpt-4o', 1000, 1000, 0.02)`
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello')
    await runJudging()
    expect(llm.requests).toHaveLength(0)
    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    const byJudge = Object.fromEntries(res.body.data.map((j: { judge_id: string }) => [j.judge_id, j]))
    expect(byJudge[polite]).toMatchObject({ score: null, passed: null, usage: null, error: { code: 'budget_exceeded' } })
    expect(byJudge[greets]).toMatchObject({ score: 1, passed: true })
  })

  it('records a model answer that is no verdict as such, with what the call cost', async () => {
    const t = await createTenant()
    const { key, polite } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello')
    llm.script = () => ({ reply: JSON.stringify({ score: 7, reasoning: 'Out of range' }) })
    await runJudging()
    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(res.body.data.find((j: { judge_id: string }) => j.judge_id === polite)).toMatchObject({
      score: null,
      passed: null,
      error: { code: 'invalid_judgement', message: 'The model did not answer with a score from 0 to 1 and its reasoning.' },
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 },
    })
  })

  it('tries a provider that is down again, without judging twice what it already judged', async () => {
    const t = await createTenant()
    const { key } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello')
    llm.script = () => ({ status: 503 })
    await runJudging()
    const [{ status }] = await judgingJobs(runId)
    expect(status).toBe('queued')
    const rules = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(rules.body.data.map((j: { judge_name: string }) => j.judge_name).sort()).toEqual(['Greets', 'JSON answer'])
    // Due again at once, with the provider back.
    llm.script = () => ({ reply: JSON.stringify({ score: 1, reasoning: 'Fine.' }) })
    await serviceSql()`update agentry.jobs set run_at = now() where kind = 'runs.judge' and payload->>'run_id' = ${runId}`
    await runJudging()
    const all = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(all.body.data.map((j: { judge_name: string }) => j.judge_name).sort()).toEqual(['Greets', 'JSON answer', 'Polite'])
  })

  it('judges only completed runs of agents that have judges', async () => {
    const t = await createTenant()
    await judgedAgent(t)
    const failed = await runOf(t)
    await finish(failed, 'failed', 'Hello')
    expect(await judgingJobs(failed)).toEqual([])
    const unjudged = await runOf(t, 'otherAgent')
    await finish(unjudged, 'completed', 'Hello')
    expect(await judgingJobs(unjudged)).toEqual([])
    const key = await t.key()
    const res = await api.call('GET', `/runs/${unjudged}/judgements`, { key })
    expect(res.body).toEqual({ data: [] })
  })

  it("keeps a deleted judge's judgements, with its name", async () => {
    const t = await createTenant()
    const { key, greets } = await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello')
    await runJudging()
    await api.call('DELETE', `/judges/${greets}`, { key })
    const res = await api.call('GET', `/runs/${runId}/judgements`, { key })
    expect(res.body.data.filter((j: { judge_name: string }) => j.judge_name === 'Greets')).toMatchObject([{ judge_id: null, score: 1 }])
  })

  it("keeps each organisation's and agent's judgements to itself", async () => {
    const t = await createTenant()
    await judgedAgent(t)
    const runId = await runOf(t)
    await finish(runId, 'completed', 'Hello')
    await runJudging()
    const other = await createTenant()
    const foreign = await api.call('GET', `/runs/${runId}/judgements`, { key: await other.key() })
    expect(foreign.status).toBe(404)
    expect(foreign.body.error).toEqual({ code: 'not_found', message: 'Run not found.' })
    const sibling = await api.call('GET', `/runs/${runId}/judgements`, { key: await t.key({ agent: 'otherAgent' }) })
    expect(sibling.status).toBe(404)
    const own = await api.call('GET', `/runs/${runId}/judgements`, { key: await t.key({ agent: 'agent' }) })
    expect(own.body.data).toHaveLength(3)
  })
})
