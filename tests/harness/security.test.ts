// The cross-tenant check of the shared security table must be able to fail: here it meets routes that
// ignore tenancy (a list reading every organisation's agents, a PATCH that changes a row it then claims not
// to find) beside the real routes that keep to their organisation.
import type { AddressInfo } from 'node:net'
import { z } from '@hono/zod-openapi'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAgentsRoute, registerListAgents } from '../../functions/agents/list-agents.ts'
import { registerUpdateAgent, updateAgentRoute } from '../../functions/agents/update-agent.ts'
import { notFound } from '../../functions/_core/errors.ts'
import { defineRoute } from '../../functions/_core/route.ts'
import { createApi, createServerApp } from '../../functions/_core/server.ts'
import { createAgent } from '../../scripts/lib/admin.ts'
import type { ApiResponse, TestApi } from './api.ts'
import { expectNoCrossTenantLeak } from './security.ts'
import { serviceSql, type Tenant } from './tenants.ts'

const leakyListRoute = defineRoute({
  method: 'get',
  path: '/leaky/agents',
  scope: 'agents:read',
  summary: 'Lists every organisation’s agents',
  responses: { 200: { description: 'Agents', content: { 'application/json': { schema: z.object({ data: z.array(z.unknown()) }) } } } },
})

const leakyUpdateRoute = defineRoute({
  method: 'patch',
  path: '/leaky/agents/{id}',
  scope: 'agents:write',
  summary: 'Renames any organisation’s agent, then answers 404',
  request: { params: z.object({ id: z.string() }) },
  responses: { 200: { description: 'Never answered', content: { 'application/json': { schema: z.object({}) } } } },
})

let api: TestApi
let close: () => Promise<void>

beforeAll(async () => {
  const v1 = createApi()
  registerListAgents(v1)
  registerUpdateAgent(v1)
  // Both read and write with the service connection, which no policy confines.
  v1.openapi(leakyListRoute, async (c) => c.json({ data: await serviceSql()`select id, name from agentry.agents` }, 200))
  v1.openapi(leakyUpdateRoute, async (c) => {
    await serviceSql()`update agentry.agents set name = 'renamed by a stranger' where id = ${c.req.valid('param').id}`
    throw notFound('Agent')
  })
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: createServerApp(v1, createApi()).fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`
  // Not the harness's callApi: these routes are not the product's, and what the suite saw must not list them.
  const call = async (method: string, path: string, options: { key?: string; body?: unknown } = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = options.key ? { authorization: `Bearer ${options.key}` } : {}
    if (options.body !== undefined) headers['content-type'] = 'application/json'
    const body = options.body === undefined ? undefined : JSON.stringify(options.body)
    const res = await fetch(base + path, { method, headers, body })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : text }
  }
  api = { base, call, close: async () => {} }
  close = () => new Promise((resolve) => server.close(() => resolve()))
})
afterAll(() => close())

const freshAgentOf = async (t: Tenant) => ({ id: (await createAgent(serviceSql(), { orgId: t.org.id, name: 'Agent to rename' })).id })

describe("the security table's cross-tenant check", () => {
  it('passes a list route that keeps to the caller’s organisation', async () => {
    await expect(expectNoCrossTenantLeak(listAgentsRoute, {}, api)).resolves.toBeUndefined()
  })

  it('reports a list route that shows another organisation’s agents, naming what it showed', async () => {
    const failure = expectNoCrossTenantLeak(leakyListRoute, {}, api)
    await expect(failure).rejects.toThrow(
      /GET \/leaky\/agents showed another organisation the attacked one's marker, agent id, second agent id/,
    )
  })

  it('passes a refused PATCH that left the row alone', async () => {
    await expect(expectNoCrossTenantLeak(updateAgentRoute, { params: freshAgentOf, body: { name: 'x' } }, api)).resolves.toBeUndefined()
  })

  it('reports a PATCH that answers 404 yet changed the other organisation’s row', async () => {
    const failure = expectNoCrossTenantLeak(leakyUpdateRoute, { params: freshAgentOf }, api)
    await expect(failure).rejects.toThrow(/PATCH \/leaky\/agents\/[\w-]+ changed the attacked organisation's rows/)
  })
})
