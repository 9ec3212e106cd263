import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDeploymentRoute } from '../../functions/deployments/create-deployment.ts'
import { getDeploymentRoute } from '../../functions/deployments/get-deployment.ts'
import { listDeploymentsRoute } from '../../functions/deployments/list-deployments.ts'
import { rollbackDeploymentRoute } from '../../functions/deployments/rollback-deployment.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(async () => {
  await api.close()
})

/** A deployment of the agent's, made straight in the database as the route makes it. */
async function deploymentOf(t: Tenant, agent: 'agent' | 'otherAgent' = 'agent'): Promise<string> {
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.deployments (org_id, agent_id, environment) values (${t.org.id}, ${t[agent].id}, 'production') returning id`
  return row.id
}

describeSecurity(listDeploymentsRoute, {}, () => api)
describeSecurity(createDeploymentRoute, { body: (t: Tenant) => ({ agent_id: t.agent.id, environment: 'staging' }) }, () => api)
describeSecurity(
  getDeploymentRoute,
  { params: async (t) => ({ id: await deploymentOf(t) }), otherAgentParams: async (t) => ({ id: await deploymentOf(t, 'otherAgent') }) },
  () => api,
)
describeSecurity(
  rollbackDeploymentRoute,
  { params: async (t) => ({ id: await deploymentOf(t) }), otherAgentParams: async (t) => ({ id: await deploymentOf(t, 'otherAgent') }) },
  () => api,
)

const setAgent = (t: Tenant, fields: { instructions?: string; model?: string; temperature?: number }) =>
  serviceSql()`update agentry.agents set ${serviceSql()(fields)} where id = ${t.agent.id}`

/** A run created as POST /agents/{id}/trigger creates one, in the database. */
async function runOf(t: Tenant, environment: string | null = null) {
  const [run] = await serviceSql()<{ id: string; deployment_id: string | null; configuration: Record<string, unknown> }[]>`
    insert into agentry.runs (org_id, agent_id, message, environment) values (${t.org.id}, ${t.agent.id}, 'Hello', ${environment})
    returning id, deployment_id, configuration`
  return run
}

describe('deployments', () => {
  it('numbers each deployment of an agent per environment, snapshots its configuration, and keeps one active', async () => {
    const t = await createTenant()
    const key = await t.key()
    await setAgent(t, { instructions: 'Be brief.', model: 'gpt-4o-mini', temperature: 0.2 })
    const first = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })
    expect(first.status, JSON.stringify(first.body)).toBe(201)
    expect(first.body.data).toMatchObject({
      agent_id: t.agent.id,
      environment: 'production',
      version: 1,
      active: true,
      rolled_back_from: null,
      restored_from: null,
      configuration: { instructions: 'Be brief.', model: 'gpt-4o-mini', temperature: 0.2, max_output_tokens: null, name: 'Agent A' },
    })

    await setAgent(t, { instructions: 'Be thorough.' })
    const second = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id, environment: 'production' } })
    expect(second.body.data).toMatchObject({ version: 2, active: true, configuration: { instructions: 'Be thorough.' } })
    const staging = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id, environment: 'staging' } })
    expect(staging.body.data).toMatchObject({ environment: 'staging', version: 1, active: true })

    // The first snapshot is unchanged by the agent's later edits and is no longer active.
    const again = await api.call('GET', `/deployments/${first.body.data.id}`, { key })
    expect(again.body.data).toMatchObject({ version: 1, active: false, configuration: { instructions: 'Be brief.' } })

    const active = await api.call('GET', `/deployments?agent_id=${t.agent.id}&active=true`, { key })
    expect(active.body.data.map((d: { id: string }) => d.id)).toEqual([staging.body.data.id, second.body.data.id])
    const production = await api.call('GET', `/deployments?environment=production`, { key })
    expect(production.body.data.map((d: { version: number }) => d.version)).toEqual([2, 1])

    // The new environment is the organisation's, beside production and development.
    const environments = await serviceSql()`select name from agentry.environments where org_id = ${t.org.id} order by name`
    expect(environments.map((e) => e.name)).toEqual(['development', 'production', 'staging'])
  })

  it('gives deployments made at once distinct versions and leaves exactly one active', async () => {
    const t = await createTenant()
    const key = await t.key()
    const made = await Promise.all(
      // Four: the free plan's cap on requests in flight.
      Array.from({ length: 4 }, () => api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })),
    )
    expect(made.map((r) => r.status)).toEqual([201, 201, 201, 201])
    expect(made.map((r) => r.body.data.version).sort()).toEqual([1, 2, 3, 4])
    const stored = await serviceSql()`select version from agentry.deployments where agent_id = ${t.agent.id} and active`
    expect(stored).toEqual([{ version: 4 }])
  })

  it('pages newest first', async () => {
    const t = await createTenant()
    const key = await t.key()
    for (let i = 0; i < 3; i++) await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })
    const page1 = await api.call('GET', '/deployments?limit=2', { key })
    expect(page1.body.data.map((d: { version: number }) => d.version)).toEqual([3, 2])
    expect(page1.body.has_more).toBe(true)
    const page2 = await api.call('GET', `/deployments?limit=2&cursor=${page1.body.next_cursor}`, { key })
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null })
    expect(page2.body.data.map((d: { version: number }) => d.version)).toEqual([1])
  })

  it('rolls back by deploying an earlier snapshot again as the next version, naming both ends', async () => {
    const t = await createTenant()
    const key = await t.key()
    await setAgent(t, { instructions: 'Version one.' })
    const v1 = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })).body.data
    await setAgent(t, { instructions: 'Version two.' })
    const v2 = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })).body.data

    const rollback = await api.call('POST', `/deployments/${v1.id}/rollback`, { key })
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(201)
    expect(rollback.body.data).toMatchObject({
      version: 3,
      active: true,
      rolled_back_from: v2.id,
      restored_from: v1.id,
      configuration: v1.configuration,
    })
    const actives = await api.call('GET', `/deployments?agent_id=${t.agent.id}&active=true`, { key })
    expect(actives.body.data.map((d: { id: string }) => d.id)).toEqual([rollback.body.data.id])
    expect((await runOf(t)).configuration).toMatchObject({ instructions: 'Version one.' })
  })

  it('never changes a deployment once made', async () => {
    const t = await createTenant()
    const id = await deploymentOf(t)
    await expect(serviceSql()`update agentry.deployments set configuration = '{}' where id = ${id}`).rejects.toThrow(/immutable/)
    await expect(serviceSql()`update agentry.deployments set version = 9 where id = ${id}`).rejects.toThrow(/immutable/)
  })

  it('refuses an agent it cannot reach, and an environment name that is not one', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const key = await t.key()
    const foreign = await api.call('POST', '/deployments', { key, body: { agent_id: other.agent.id } })
    expect(foreign.status).toBe(404)
    expect(foreign.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
    const siblingDeployment = await deploymentOf(t, 'otherAgent')
    const agentKey = await t.key({ agent: 'agent' })
    const sibling = await api.call('POST', '/deployments', { key: agentKey, body: { agent_id: t.otherAgent.id } })
    expect(sibling.status).toBe(404)
    const [stillActive] = await serviceSql()`select active from agentry.deployments where id = ${siblingDeployment}`
    expect(stillActive.active).toBe(true)
    const own = await api.call('POST', '/deployments', { key: agentKey, body: { agent_id: t.agent.id } })
    expect(own.status).toBe(201)
    const badName = await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id, environment: 'Prod Env' } })
    expect(badName.status).toBe(400)
    expect(badName.body.error.code).toBe('validation_failed')
    const missing = await api.call('POST', `/deployments/${crypto.randomUUID()}/rollback`, { key })
    expect(missing.status).toBe(404)
    expect(missing.body.error).toEqual({ code: 'not_found', message: 'Deployment not found.' })
  })
})

describe('runs and deployments', () => {
  it("runs with the agent's own configuration until it is deployed", async () => {
    const t = await createTenant()
    await setAgent(t, { instructions: 'Live edit.' })
    const run = await runOf(t)
    expect(run.deployment_id).toBeNull()
    expect(run.configuration).toMatchObject({ instructions: 'Live edit.' })
  })

  it("runs with the active deployment's snapshot of its environment, production by default, and records it", async () => {
    const t = await createTenant()
    const key = await t.key()
    await setAgent(t, { instructions: 'Deployed to production.', model: 'gpt-4o' })
    const production = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })).body.data
    await setAgent(t, { instructions: 'Deployed to staging.', model: 'gpt-4o-mini' })
    const staging = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id, environment: 'staging' } })).body.data
    // Edited after both deployments: runs in a deployed environment do not see it.
    await setAgent(t, { instructions: 'Not deployed.' })

    const byDefault = await runOf(t)
    expect(byDefault.deployment_id).toBe(production.id)
    expect(byDefault.configuration).toEqual(production.configuration)
    expect(byDefault.configuration).toMatchObject({ instructions: 'Deployed to production.', model: 'gpt-4o' })

    const inStaging = await runOf(t, 'staging')
    expect(inStaging.deployment_id).toBe(staging.id)
    expect(inStaging.configuration).toMatchObject({ instructions: 'Deployed to staging.', model: 'gpt-4o-mini' })

    const undeployed = await runOf(t, 'development')
    expect(undeployed.deployment_id).toBeNull()
    expect(undeployed.configuration).toMatchObject({ instructions: 'Not deployed.' })
  })

  it("leaves a run its deployment's id when the deployment is later left behind by another", async () => {
    const t = await createTenant()
    const key = await t.key()
    const v1 = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })).body.data
    const run = await runOf(t)
    const v2 = (await api.call('POST', '/deployments', { key, body: { agent_id: t.agent.id } })).body.data
    const [stored] = await serviceSql()`select deployment_id from agentry.runs where id = ${run.id}`
    expect(stored.deployment_id).toBe(v1.id)
    expect((await runOf(t)).deployment_id).toBe(v2.id)
  })
})
