import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runJobBatch } from '../../functions/_core/jobs/runner.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import type { TestApi } from '../harness/api.ts'
import { type FakeLlm, startApiWithFakeModel } from '../harness/fake-llm.ts'
import { createTenant, isolateDatabase, serviceSql } from '../harness/tenants.ts'

let api: TestApi
let llm: FakeLlm
let drop: () => Promise<void>
beforeAll(async () => {
  // A database of this file's own: the runs and judging it queues are run by its runner, with its fake model.
  drop = (await isolateDatabase()).drop
  ;({ api, llm } = await startApiWithFakeModel())
})
afterAll(async () => {
  await api.close()
  await llm.close()
  await drop()
})

/** Runs the queued jobs (the product's registry) until none is left. */
async function runJobs(): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const { claimed } = await runJobBatch(serviceSql(), { handlers: jobHandlers, budgetMs: 20_000 })
    if (claimed === 0) return
  }
}

describe('a triggered run of a deployed agent', () => {
  it('executes with the deployment it records, is judged once complete, and an agent edit changes neither', async () => {
    const t = await createTenant()
    const key = await t.key()
    await serviceSql()`update agentry.agents set instructions = 'Answer as the deployed agent.', model = 'gpt-4o' where id = ${t.agent.id}`
    const deployed = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })
    await serviceSql()`update agentry.agents set instructions = 'Answer as the edited agent.', model = 'gpt-4o-mini' where id = ${t.agent.id}`
    await api.call('POST', '/judges', {
      key,
      body: { agent_id: t.agent.id, name: 'Greets', kind: 'rule', rule: { regex: 'Hello' }, threshold: 1 },
    })

    llm.script = () => ({ reply: 'Hello from the deployed agent.' })
    const triggered = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'Say hello' } })
    expect(triggered.status, JSON.stringify(triggered.body)).toBe(202)
    await runJobs()

    const [run] = await serviceSql()`select status, deployment_id, configuration from agentry.runs where id = ${triggered.body.data.id}`
    expect(run.status).toBe('completed')
    expect(run.deployment_id).toBe(deployed.body.data.id)
    expect(run.configuration).toEqual(deployed.body.data.configuration)
    // The model was asked as the deployment says, not as the agent now is.
    expect(llm.requests).toHaveLength(1)
    expect(llm.requests[0].body.model).toBe('gpt-4o')
    expect(llm.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'Answer as the deployed agent.' })

    const judgements = await api.call('GET', `/runs/${triggered.body.data.id}/judgements`, { key })
    expect(judgements.body.data).toMatchObject([{ judge_name: 'Greets', score: 1, passed: true }])
  })
})

describe('a run triggered in an environment', () => {
  it('records the environment and executes with that environment’s active deployment', async () => {
    const t = await createTenant()
    const key = await t.key()
    await serviceSql()`update agentry.agents set instructions = 'Answer as production.' where id = ${t.agent.id}`
    const production = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })
    await serviceSql()`update agentry.agents set instructions = 'Answer as staging.' where id = ${t.agent.id}`
    const staging = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id, environment: 'staging' } })
    await serviceSql()`update agentry.agents set instructions = 'Answer as the agent now is.' where id = ${t.agent.id}`

    const inStaging = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'Hi', environment: 'staging' } })
    const byDefault = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'Hi' } })
    const atConnicPath = await api.call('POST', `/projects/${t.org.id}/agents/${encodeURIComponent(t.agent.name)}/trigger`, {
      key,
      body: { message: 'Hi', environment: 'staging' },
    })
    const undeployed = await api.call('POST', `/agents/${t.agent.id}/trigger`, { key, body: { message: 'Hi', environment: 'preview' } })
    expect([inStaging.status, byDefault.status, atConnicPath.status, undeployed.status]).toEqual([202, 202, 202, 202])
    expect(inStaging.body.data).toMatchObject({ environment: 'staging', deployment_id: staging.body.data.id })
    expect(byDefault.body.data).toMatchObject({ environment: null, deployment_id: production.body.data.id })
    expect(atConnicPath.body.data).toMatchObject({ environment: 'staging', deployment_id: staging.body.data.id })
    expect(undeployed.body.data).toMatchObject({ environment: 'preview', deployment_id: null })

    llm.script = () => ({ reply: 'Done.' })
    await runJobs()
    const systemOf = (i: number) => llm.requests.at(-4 + i)?.body.messages[0].content
    const asked = [0, 1, 2, 3].map(systemOf).sort()
    expect(asked).toEqual(['Answer as production.', 'Answer as staging.', 'Answer as staging.', 'Answer as the agent now is.'])
  })

  it('refuses an environment that is not a name', async () => {
    const t = await createTenant()
    const res = await api.call('POST', `/agents/${t.agent.id}/trigger`, {
      key: await t.key(),
      body: { message: 'Hi', environment: 'Prod Env' },
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
  })
})
