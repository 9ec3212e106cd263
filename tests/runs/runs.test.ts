import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { advanceClockForTests, resetClockForTests, stopClockForTests } from '../../functions/_core/clock.ts'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { executeRunJob, executeRunKind } from '../../functions/runs/execute.ts'
import { runnerPool } from '../_core/jobs/helpers.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { type FakeLlm, parseEvents, startFakeLlm } from '../harness/fake-llm.ts'
import { createTenant, isolateDatabase, serviceSql, type Tenant } from '../harness/tenants.ts'

// The runs here are executed by this file's own batches of runs.execute jobs: the file has a database of its
// own, so no other file's runner takes them and no other file's runs are taken.
let drop: () => Promise<void>
let api: TestApi
let llm: FakeLlm
let runnerSql: ReturnType<typeof runnerPool>
let t: Tenant
let key: string

beforeAll(async () => {
  drop = (await isolateDatabase()).drop
  llm = await startFakeLlm()
  api = await startApi()
  runnerSql = runnerPool()
})

afterAll(async () => {
  await runnerSql?.end()
  await api?.close()
  await llm?.close()
  await drop?.()
})

beforeEach(async () => {
  process.env.LLM_BASE_URL = llm.baseUrl
  process.env.LLM_API_KEY = 'sk-fake'
  // Runs an earlier test left queued are not this test's to count.
  await executeRuns()
  llm.requests.length = 0
  llm.script = () => ({ reply: 'Hello from the fake model.' })
  t = await createTenant()
  key = await t.key({ scopes: ['runs:read', 'runs:write'] })
  await serviceSql()`
    update agentry.agents set model = 'gpt-4o-mini', instructions = 'You are terse.' where id = ${t.agent.id}`
})

afterEach(() => {
  delete process.env.LLM_BASE_URL
  delete process.env.LLM_API_KEY
  resetClockForTests()
})

/** Executes every due run of the database, as a worker would, until none is left. */
const executeRuns = () => runJobBatch(runnerSql, { handlers: { [executeRunKind]: executeRunJob() }, budgetMs: 15_000 })

async function trigger(body: Record<string, unknown> = { message: 'Summarise the sales report' }, agent = t.agent.id, k = key) {
  const res = await api.call('POST', `/agents/${encodeURIComponent(agent)}/trigger`, { key: k, body })
  expect(res.status, JSON.stringify(res.body)).toBe(202)
  return res.body.data
}

const getRun = async (id: string, k = key) => (await api.call('GET', `/runs/${id}`, { key: k })).body.data

describe('triggering a run', () => {
  it('answers 202 with the queued run, which a worker then completes with its output, step and usage', async () => {
    const queued = await trigger({ message: 'Summarise the sales report', metadata: { ticket: 'T-1' } })
    expect(queued).toMatchObject({
      agent_id: t.agent.id,
      status: 'queued',
      message: 'Summarise the sales report',
      metadata: { ticket: 'T-1' },
      output: null,
      last_error: null,
      started_at: null,
    })
    await executeRuns()
    const run = await getRun(queued.id)
    expect(run).toMatchObject({ status: 'completed', output: 'Hello from the fake model.', last_error: null, cost_usd: 0.00000585 })
    expect(run.usage).toMatchObject({
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      total_price: '0.00000585',
      currency: 'USD',
    })
    expect(run.started_at).not.toBeNull()
    expect(run.completed_at).not.toBeNull()
    expect(run.steps).toEqual([
      expect.objectContaining({
        seq: 1,
        kind: 'model_call',
        model: 'gpt-4o-mini',
        status: 'completed',
        output: 'Hello from the fake model.',
        usage: { prompt_tokens: 11, completion_tokens: 7, cost_usd: 0.00000585 },
        error: null,
      }),
    ])
    expect(llm.requests.map((r) => r.body.messages)).toEqual([
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Summarise the sales report' },
      ],
    ])
    const ledger = await serviceSql()`
      select agent_id, model, prompt_tokens, completion_tokens, cost_usd::float8 as cost from agentry.usage_records where run_id = ${queued.id}`
    expect(ledger).toEqual([{ agent_id: t.agent.id, model: 'gpt-4o-mini', prompt_tokens: 11, completion_tokens: 7, cost: 0.00000585 }])
  })

  it("executes the agent's configuration as it was when the run was queued", async () => {
    const queued = await trigger()
    await serviceSql()`update agentry.agents set instructions = 'Changed after the trigger.' where id = ${t.agent.id}`
    await executeRuns()
    expect((await getRun(queued.id)).status).toBe('completed')
    expect(llm.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'You are terse.' })
  })

  it("names the agent by its name too, and hands the run's input to the model beside the message", async () => {
    const queued = await trigger({ message: 'Total these', input: { amounts: [1, 2] } }, t.agent.name)
    expect(queued.agent_id).toBe(t.agent.id)
    await executeRuns()
    expect((await getRun(queued.id)).status).toBe('completed')
    expect(llm.requests[0].body.messages[1]).toEqual({ role: 'user', content: 'Total these\n\nInput (JSON):\n{"amounts":[1,2]}' })
  })

  it('answers 404 for an agent the organisation does not have, and 400 for a body without a message', async () => {
    const missing = await api.call('POST', '/agents/No such agent/trigger', { key, body: { message: 'hi' } })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
    const empty = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { input: {} } })
    expect(empty.status).toBe(400)
    expect(empty.body.error.code).toBe('validation_failed')
  })

  it('refuses a paused agent with 409', async () => {
    await serviceSql()`update agentry.agents set status = 'paused' where id = ${t.agent.id}`
    const res = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'hi' } })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('conflict')
  })

  it('fails the run with last_error when the model provider fails', async () => {
    llm.script = () => ({ status: 400 })
    const queued = await trigger()
    await executeRuns()
    const run = await getRun(queued.id)
    expect(run.status).toBe('failed')
    expect(run.output).toBeNull()
    expect(run.last_error.code).toBe('provider_error')
    expect(run.last_error.message).toMatch(/scripted failure 400/)
    expect(run.steps).toEqual([expect.objectContaining({ seq: 1, status: 'failed', error: run.last_error, usage: null })])
    expect(run.completed_at).not.toBeNull()
  })

  it('raises run.completed and run.failed for the webhooks', async () => {
    await serviceSql()`
      insert into agentry.webhook_endpoints (org_id, url, events, secret)
      values (${t.org.id}, 'https://hooks.example.com/runs', ${['run.*']}, 'whsec_test')`
    const completed = await trigger()
    await executeRuns()
    llm.script = () => ({ status: 400 })
    const failed = await trigger()
    await executeRuns()
    const events = await serviceSql()`select type, data from agentry.events where org_id = ${t.org.id} order by created_at`
    expect(events).toEqual([
      { type: 'run.completed', data: { run_id: completed.id, agent_id: t.agent.id, status: 'completed' } },
      { type: 'run.failed', data: { run_id: failed.id, agent_id: t.agent.id, status: 'failed' } },
    ])
  })

  it('fails a run with budget_exceeded when the budget is spent, without calling the model', async () => {
    // One call costs 0.00000585 USD: the first run spends the day's budget, the second is refused.
    await serviceSql()`insert into agentry.budgets (org_id, period, limit_usd) values (${t.org.id}, 'day', 0.000005)`
    const first = await trigger()
    await executeRuns()
    expect((await getRun(first.id)).status).toBe('completed')
    const second = await trigger()
    await executeRuns()
    const run = await getRun(second.id)
    expect(run.status).toBe('failed')
    expect(run.last_error.code).toBe('budget_exceeded')
    expect(run.steps).toEqual([])
    expect(llm.requests).toHaveLength(1)
  })
})

describe('a run whose worker stopped mid-step', () => {
  it('is resumed by the retried job: the interrupted step is marked failed and a new step completes the run', async () => {
    const queued = await trigger()
    await serviceSql()`update agentry.runs set status = 'in_progress' where id = ${queued.id}`
    await serviceSql()`
      insert into agentry.run_steps (run_id, org_id, agent_id, seq, model) values (${queued.id}, ${t.org.id}, ${t.agent.id}, 1, 'gpt-4o-mini')`
    await executeRuns()
    const run = await getRun(queued.id)
    expect(run.status).toBe('completed')
    expect(run.steps.map((s: { seq: number; status: string; error: unknown }) => [s.seq, s.status, s.error])).toEqual([
      [1, 'failed', { code: 'interrupted', message: 'The worker executing this step stopped; the run was resumed.' }],
      [2, 'completed', null],
    ])
  })
})

describe('Idempotency-Key on a trigger', () => {
  it('answers a retry with the same run, and a different body with the same key with 409', async () => {
    const headers = { 'idempotency-key': `trigger-${crypto.randomUUID()}` }
    const body = { message: 'Once only' }
    const first = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body, headers })
    const again = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body, headers })
    expect(first.status).toBe(202)
    expect(again.status).toBe(202)
    expect(again.body).toEqual(first.body)
    const other = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'Something else' }, headers })
    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('conflict')
    const [{ count }] = await serviceSql()`select count(*)::int as count from agentry.runs where org_id = ${t.org.id}`
    expect(count).toBe(1)
  })
})

describe('cancelling a run', () => {
  it('cancels a queued run, which then never calls the model; a finished run answers 409', async () => {
    const queued = await trigger()
    const res = await api.call('POST', `/runs/${queued.id}/cancel`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id: queued.id, status: 'cancelled' })
    expect(res.body.data.cancelled_at).not.toBeNull()
    await executeRuns()
    expect((await getRun(queued.id)).status).toBe('cancelled')
    expect(llm.requests).toHaveLength(0)
    const again = await api.call('POST', `/runs/${queued.id}/cancel`, { key })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('conflict')
  })

  it('stops a model call under way when its run is cancelled, keeping what it wrote and recording what it cost', async () => {
    const queued = await trigger()
    const words = Array.from({ length: 20 }, (_, i) => `word${i} `)
    // Slow enough (6 s in all) that the cancel, sent once the model has been asked, lands mid-answer.
    let asked: () => void = () => {}
    const modelAsked = new Promise<void>((resolve) => {
      asked = resolve
    })
    llm.script = () => {
      asked()
      return { chunks: words, chunkDelayMs: 300 }
    }
    const executing = executeRuns()
    await modelAsked
    const cancel = await api.call('POST', `/runs/${queued.id}/cancel`, { key })
    expect(cancel.status).toBe(200)
    const started = Date.now()
    await executing
    expect(Date.now() - started).toBeLessThan(4_500)
    const run = await getRun(queued.id)
    expect(run.status).toBe('cancelled')
    expect(run.output).toBeNull()
    expect(run.steps).toHaveLength(1)
    const [step] = run.steps
    expect(step.status).toBe('failed')
    expect(step.error).toEqual({ code: 'cancelled', message: 'The run was cancelled during this model call.' })
    expect(words.join('').startsWith(step.output ?? '')).toBe(true)
    expect((step.output ?? '').length).toBeLessThan(words.join('').length)
    const ledger = await serviceSql()`select estimated from agentry.usage_records where run_id = ${queued.id}`
    expect(ledger).toEqual([{ estimated: true }])
  })

  it('answers 409 for a completed run', async () => {
    const queued = await trigger()
    await executeRuns()
    const res = await api.call('POST', `/runs/${queued.id}/cancel`, { key })
    expect(res.status).toBe(409)
    expect((await getRun(queued.id)).status).toBe('completed')
  })
})

describe('a run left in the queue', () => {
  it('is expired instead of run once it has waited longer than RUN_QUEUE_TTL_SECONDS (an hour by default)', async () => {
    stopClockForTests(Date.now())
    const stale = await trigger()
    advanceClockForTests(3599_000)
    const fresh = await trigger()
    advanceClockForTests(2_000)
    await executeRuns()
    const run = await getRun(stale.id)
    expect(run.status).toBe('expired')
    expect(run.last_error).toEqual({ code: 'expired', message: 'The run waited in the queue longer than its time to live.' })
    expect(run.steps).toEqual([])
    expect((await getRun(fresh.id)).status).toBe('completed')
    expect(llm.requests).toHaveLength(1)
  })
})

describe('listing runs', () => {
  it('lists newest first, filtered by agent, status and created_after, a page at a time', async () => {
    const a1 = await trigger()
    await new Promise((r) => setTimeout(r, 20))
    const between = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 20))
    const a2 = await trigger()
    const b1 = await trigger({ message: 'For B' }, t.otherAgent.id)
    await api.call('POST', `/runs/${a1.id}/cancel`, { key })
    const all = await api.call('GET', '/runs', { key })
    expect(all.body.data.map((r: { id: string }) => r.id)).toEqual([b1.id, a2.id, a1.id])
    const ofA = await api.call('GET', `/runs?agent_id=${t.agent.id}`, { key })
    expect(ofA.body.data.map((r: { id: string }) => r.id)).toEqual([a2.id, a1.id])
    const cancelled = await api.call('GET', '/runs?status=cancelled', { key })
    expect(cancelled.body.data.map((r: { id: string }) => r.id)).toEqual([a1.id])
    const after = await api.call('GET', `/runs?created_after=${encodeURIComponent(between)}`, { key })
    expect(after.body.data.map((r: { id: string }) => r.id)).toEqual([b1.id, a2.id])
    const page1 = await api.call('GET', '/runs?limit=2', { key })
    expect(page1.body).toMatchObject({ has_more: true })
    const page2 = await api.call('GET', `/runs?limit=2&cursor=${page1.body.next_cursor}`, { key })
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(page2.body.data.map((r: { id: string }) => r.id)).toEqual([a1.id])
  })
})

describe("a run's events", () => {
  it('streams every status change and step, ending when the run finishes, and resumes after Last-Event-ID', async () => {
    const queued = await trigger()
    const watching = api.call('GET', `/runs/${queued.id}/events`, { key })
    await executeRuns()
    const live = await watching
    expect(live.status).toBe(200)
    expect(live.headers.get('content-type')).toMatch(/text\/event-stream/)
    const events = parseEvents(live.body)
    expect(events.map((e) => e.event)).toEqual([
      'run.queued',
      'run.in_progress',
      'run.step.in_progress',
      'run.step.completed',
      'run.completed',
    ])
    const ids = events.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(events[0].data).toMatchObject({
      id: queued.id,
      agent_id: t.agent.id,
      status: 'queued',
      output: null,
      last_error: null,
      usage: null,
      started_at: null,
      completed_at: null,
      cancelled_at: null,
    })
    expect(Date.parse(events[0].data.created_at as string)).toBe(Date.parse(queued.created_at))
    expect(events[3].data).toMatchObject({
      seq: 1,
      output: 'Hello from the fake model.',
      usage: { prompt_tokens: 11, completion_tokens: 7 },
    })
    expect(events[4].data).toMatchObject({ id: queued.id, status: 'completed', output: 'Hello from the fake model.' })

    const resumed = await api.call('GET', `/runs/${queued.id}/events`, { key, headers: { 'last-event-id': events[1].id as string } })
    expect(parseEvents(resumed.body).map((e) => [e.event, e.id])).toEqual(events.slice(2).map((e) => [e.event, e.id]))
  })

  it('shows each event as the run or step was when it happened, read after the run ended', async () => {
    const queued = await trigger()
    await executeRuns()
    const events = parseEvents((await api.call('GET', `/runs/${queued.id}/events`, { key })).body)
    const run = await getRun(queued.id)
    expect(events[1]).toMatchObject({ event: 'run.in_progress' })
    expect(events[1].data).toEqual({
      id: queued.id,
      agent_id: t.agent.id,
      status: 'in_progress',
      output: null,
      last_error: null,
      usage: null,
      created_at: expect.any(String),
      started_at: expect.any(String),
      completed_at: null,
      cancelled_at: null,
    })
    expect(Date.parse(events[1].data.started_at as string)).toBe(Date.parse(run.started_at))
    expect(events[2].data).toMatchObject({
      seq: 1,
      kind: 'model_call',
      status: 'in_progress',
      output: null,
      usage: null,
      error: null,
      completed_at: null,
    })
    expect(events[3].data).toMatchObject({ seq: 1, status: 'completed', error: null, completed_at: expect.any(String) })
    expect(events[4].data).toMatchObject({ status: 'completed', usage: run.usage, completed_at: expect.any(String) })
  })

  it('orders a cancel between a step opening and its close, and merges events stored as rows by earlier versions', async () => {
    const queued = await trigger()
    const db = serviceSql()
    await db`update agentry.runs set status = 'in_progress' where id = ${queued.id}`
    await db`insert into agentry.run_steps (run_id, org_id, agent_id, seq, model) values (${queued.id}, ${t.org.id}, ${t.agent.id}, 1, 'gpt-4o-mini')`
    // An event kept as a row, numbered from the same sequence, as runs from before migration 49 have them.
    await db`
      insert into agentry.run_events (run_id, org_id, agent_id, type, data)
      values (${queued.id}, ${t.org.id}, ${t.agent.id}, 'run.note', ${db.json({ stored: true })})`
    const cancelled = await api.call('POST', `/runs/${queued.id}/cancel`, { key })
    expect(cancelled.status).toBe(200)
    await db`update agentry.run_steps set status = 'failed', completed_at = now() where run_id = ${queued.id} and seq = 1`
    const events = parseEvents((await api.call('GET', `/runs/${queued.id}/events`, { key })).body)
    expect(events.map((e) => e.event)).toEqual([
      'run.queued',
      'run.in_progress',
      'run.step.in_progress',
      'run.note',
      'run.cancelled',
      'run.step.failed',
    ])
    const ids = events.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(events[3].data).toEqual({ stored: true })
    expect(events[4].data).toMatchObject({ status: 'cancelled', cancelled_at: expect.any(String) })
    const resumed = await api.call('GET', `/runs/${queued.id}/events`, { key, headers: { 'last-event-id': events[2].id as string } })
    expect(parseEvents(resumed.body).map((e) => e.event)).toEqual(['run.note', 'run.cancelled', 'run.step.failed'])
  })

  it('answers 400 for a Last-Event-ID that is no event id, and 404 for a run not the caller’s', async () => {
    const queued = await trigger()
    const bad = await api.call('GET', `/runs/${queued.id}/events`, { key, headers: { 'last-event-id': 'yesterday' } })
    expect(bad.status).toBe(400)
    const other = await createTenant()
    const hidden = await api.call('GET', `/runs/${queued.id}/events`, { key: await other.key() })
    expect(hidden.status).toBe(404)
  })
})

describe("Connic's paths", () => {
  it('triggers by agent name under /projects/{org_id} and reads the run back there', async () => {
    const res = await api.call('POST', `/projects/${t.org.id}/agents/${encodeURIComponent(t.agent.name)}/trigger`, {
      key,
      body: { message: 'Summarise the latest sales report' },
    })
    expect(res.status).toBe(202)
    await executeRuns()
    const run = await api.call('GET', `/projects/${t.org.id}/runs/${res.body.data.id}`, { key })
    expect(run.status).toBe(200)
    expect(run.body.data).toMatchObject({ id: res.body.data.id, status: 'completed', output: 'Hello from the fake model.' })
  })

  it("answers another organisation's project id with 404, its message also as `detail`", async () => {
    const other = await createTenant()
    const res = await api.call('POST', `/projects/${other.org.id}/agents/${encodeURIComponent(t.agent.name)}/trigger`, {
      key,
      body: { message: 'hi' },
    })
    expect(res.status).toBe(404)
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'Project not found.' }, detail: 'Project not found.' })
    const run = await api.call('GET', `/projects/${other.org.id}/runs/${crypto.randomUUID()}`, { key })
    expect(run.status).toBe(404)
    expect(run.body.detail).toBe('Project not found.')
  })

  it('puts `detail` beside the envelope on every error of a /projects path, knowledge included, and nowhere else', async () => {
    const noKey = await api.call('GET', `/projects/${t.org.id}/runs/${crypto.randomUUID()}`)
    expect(noKey.status).toBe(401)
    expect(noKey.body.detail).toBe(noKey.body.error.message)
    const missingRun = await api.call('GET', `/projects/${t.org.id}/runs/${crypto.randomUUID()}`, { key })
    expect(missingRun.body).toEqual({ error: { code: 'not_found', message: 'Run not found.' }, detail: 'Run not found.' })
    const knowledge = await api.call('POST', `/projects/${t.org.id}/knowledge/text`, {
      key: await t.key({ scopes: ['knowledge:write'] }),
      body: { content: 'Text' },
    })
    expect(knowledge.status).toBe(400)
    expect(knowledge.body.detail).toBe(knowledge.body.error.message)
    const ours = await api.call('GET', `/runs/${crypto.randomUUID()}`, { key })
    expect(ours.status).toBe(404)
    expect(ours.body).toEqual({ error: { code: 'not_found', message: 'Run not found.' } })
  })
})

describe('tenancy', () => {
  it("never shows one organisation's runs to another", async () => {
    const queued = await trigger()
    const other = await createTenant()
    const otherKey = await other.key()
    expect((await api.call('GET', `/runs/${queued.id}`, { key: otherKey })).status).toBe(404)
    expect((await api.call('POST', `/runs/${queued.id}/cancel`, { key: otherKey })).status).toBe(404)
    expect((await api.call('GET', '/runs', { key: otherKey })).body.data).toEqual([])
    expect((await api.call('POST', `/agents/${t.agent.id}/trigger`, { key: otherKey, body: { message: 'hi' } })).status).toBe(404)
  })

  it("keeps an agent key to its own agent's runs", async () => {
    const ofA = await trigger()
    const ofB = await trigger({ message: 'For B' }, t.otherAgent.id)
    const agentKey = await t.key({ agent: 'agent', scopes: ['runs:read', 'runs:write'] })
    const listed = await api.call('GET', '/runs', { key: agentKey })
    expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([ofA.id])
    expect((await api.call('GET', `/runs/${ofB.id}`, { key: agentKey })).status).toBe(404)
    expect((await api.call('POST', `/runs/${ofB.id}/cancel`, { key: agentKey })).status).toBe(404)
    expect((await api.call('POST', `/agents/${t.otherAgent.id}/trigger`, { key: agentKey, body: { message: 'hi' } })).status).toBe(404)
    expect((await api.call('POST', `/agents/${t.agent.id}/trigger`, { key: agentKey, body: { message: 'mine' } })).status).toBe(202)
  })

  it('lets no tenant move a run to a status other than cancelled', async () => {
    const queued = await trigger()
    const { withTenant } = await import('../../functions/_core/db.ts')
    const claims = { role: 'authenticated', sub: null, org_id: t.org.id, agent_id: null, key_id: null, scopes: ['runs:write'] }
    await expect(
      withTenant(claims as never, (tx) => tx`update agentry.runs set status = 'completed' where id = ${queued.id}`),
    ).rejects.toThrow(/can only be cancelled/)
    expect((await getRun(queued.id)).status).toBe('queued')
  })
})
