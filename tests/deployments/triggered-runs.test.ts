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
