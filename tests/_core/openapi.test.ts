import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApi, type TestApi } from '../harness/api.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer auth, and every operation declares its scope and its errors with the shared schemas', async () => {
    const res = await api.call('GET', '/openapi.json')
    expect(res.status).toBe(200)
    const doc = res.body
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.servers).toEqual([{ url: '/functions/v1/api/v1' }])
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ path, method, op })),
    )
    expect(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual([
      'DELETE /agent/api-keys/{id}',
      'DELETE /agents/{id}',
      'DELETE /bases/{id}',
      'DELETE /bases/{id}/items/{itemId}',
      'DELETE /budgets/{id}',
      'DELETE /conversations/{id}',
      'DELETE /datasets/{id}',
      'DELETE /datasets/{id}/rows',
      'DELETE /datasets/{id}/rows/{rowId}',
      'DELETE /delivery/suppressions/{id}',
      'DELETE /domains/{id}/inboxes/{inboxId}',
      'DELETE /domains/{id}/inboxes/{inboxId}/extraction-schema',
      'DELETE /drafts/{id}',
      'DELETE /email/lists/{entry_id}',
      'DELETE /inboxes/{id}',
      'DELETE /inboxes/{id}/extraction-schema',
      'DELETE /inboxes/{id}/lists/{entry_id}',
      'DELETE /judges/{id}',
      'DELETE /knowledge/entries/{entry_id}',
      'DELETE /messages/{id}/schedule',
      'DELETE /projects/{org_id}/knowledge/entries/{entry_id}',
      'DELETE /threads/{id}/tags',
      'DELETE /webhooks/{id}',
      'GET /agent/api-keys',
      'GET /agent/api-keys/{id}',
      'GET /agent/org',
      'GET /agents',
      'GET /agents/{id}',
      'GET /attachments/{id}',
      'GET /attachments/{id}/url',
      'GET /audit-logs',
      'GET /audit-logs/verify',
      'GET /bases',
      'GET /bases/{id}',
      'GET /bases/{id}/items',
      'GET /bases/{id}/items/{itemId}',
      'GET /budgets',
      'GET /conversations',
      'GET /conversations/{id}',
      'GET /conversations/{id}/messages',
      'GET /costs',
      'GET /data/deletion-request/{id}',
      'GET /datasets',
      'GET /datasets/{id}',
      'GET /datasets/{id}/rows',
      'GET /delivery/events',
      'GET /delivery/metrics',
      'GET /delivery/suppressions',
      'GET /deployments',
      'GET /deployments/{id}',
      'GET /dmarc/reports',
      'GET /dmarc/summary',
      'GET /domains',
      'GET /domains/{id}',
      'GET /domains/{id}/inboxes',
      'GET /domains/{id}/inboxes/{inboxId}',
      'GET /domains/{id}/records',
      'GET /drafts',
      'GET /drafts/{id}',
      'GET /email/lists',
      'GET /events/stream',
      'GET /events/ws',
      'GET /inboxes',
      'GET /inboxes/{id}',
      'GET /inboxes/{id}/filtering',
      'GET /inboxes/{id}/lists',
      'GET /judges',
      'GET /judges/{id}',
      'GET /knowledge/entries',
      'GET /me',
      'GET /messages',
      'GET /outbox',
      'GET /projects/{org_id}/knowledge/entries',
      'GET /projects/{org_id}/runs/{run_id}',
      'GET /runs',
      'GET /runs/{id}',
      'GET /runs/{id}/events',
      'GET /runs/{id}/judgements',
      'GET /search/threads',
      'GET /threads',
      'GET /threads/{id}/messages',
      'GET /threads/{id}/metadata',
      'GET /webhooks',
      'GET /webhooks/deliveries',
      'GET /webhooks/deliveries/{id}',
      'GET /webhooks/event-types',
      'GET /webhooks/health',
      'GET /webhooks/{id}',
      'PATCH /agent/org',
      'PATCH /agents/{id}',
      'PATCH /bases/{id}',
      'PATCH /bases/{id}/items/{itemId}',
      'PATCH /conversations/{id}',
      'PATCH /datasets/{id}',
      'PATCH /datasets/{id}/rows',
      'PATCH /datasets/{id}/rows/{rowId}',
      'PATCH /drafts/{id}',
      'PATCH /inboxes/{id}',
      'PATCH /inboxes/{id}/filtering',
      'PATCH /webhooks/{id}',
      'POST /agent/api-keys',
      'POST /agent/api-keys/{id}/rotate',
      'POST /agents',
      'POST /agents/{id}/trigger',
      'POST /attachments/upload',
      'POST /auth/agent-register',
      'POST /auth/agent-verify',
      'POST /bases',
      'POST /bases/{id}/items',
      'POST /bases/{id}/query',
      'POST /chat/{agentId}',
      'POST /chat/{agentId}/stop',
      'POST /data/deletion-request',
      'POST /data/deletion-request/{id}/confirm',
      'POST /datasets',
      'POST /datasets/{id}/rows',
      'POST /deployments',
      'POST /deployments/{id}/rollback',
      'POST /dmarc/reports',
      'POST /domains',
      'POST /domains/{id}/inboxes',
      'POST /domains/{id}/verify',
      'POST /drafts/{id}/send',
      'POST /email/lists',
      'POST /inboxes',
      'POST /inboxes/{id}/drafts',
      'POST /inboxes/{id}/lists',
      'POST /judges',
      'POST /knowledge/query',
      'POST /knowledge/text',
      'POST /messages/send',
      'POST /messages/{id}/forward',
      'POST /messages/{id}/reply',
      'POST /outbox/release',
      'POST /projects/{org_id}/agents/{agent_name}/trigger',
      'POST /projects/{org_id}/knowledge/query',
      'POST /projects/{org_id}/knowledge/text',
      'POST /runs/{id}/cancel',
      'POST /threads/{id}/tags',
      'POST /webhooks',
      'POST /webhooks/deliveries/{id}/retry',
      'POST /webhooks/{id}/recover',
      'POST /webhooks/{id}/rotate-secret',
      'POST /webhooks/{id}/test',
      'PUT /budgets',
      'PUT /domains/{id}/inboxes/{inboxId}',
      'PUT /domains/{id}/inboxes/{inboxId}/extraction-schema',
      'PUT /inboxes/{id}/extraction-schema',
      'PUT /threads/{id}/assign',
      'PUT /threads/{id}/status',
    ])
    for (const { method, path, op } of operations) {
      const scope = op['x-required-scope']
      expect(scope, `${method} ${path}`).toBeDefined()
      // An agent's registration is open to anyone (it is how an agent gets a credential at all).
      if (scope === 'none') expect(op.security).toEqual([])
      else if (scope !== 'any') {
        // A search sent as POST changes nothing and says so: it needs a read scope. Deleting data in bulk
        // needs its own scope, stronger than any write, on every route of /data, its status included.
        if (path.startsWith('/data/')) expect(scope).toBe('data:delete')
        else expect(scope).toMatch(method === 'get' || op['x-read-only'] === true ? /:read$/ : /:write$/)
        expect(op.security).toEqual([{ bearerAuth: [scope] }])
      }
      for (const status of scope === 'none' ? ['500'] : ['401', '429', '500'])
        expect(op.responses[status], `${method} ${path} ${status}`).toBeDefined()
      for (const [status, response] of Object.entries(op.responses as Record<string, any>).filter(([status]) => Number(status) >= 400)) {
        expect(response.content['application/json'].schema.$ref, `${method} ${path} ${status}`).toMatch(
          /^#\/components\/schemas\/\w+Error$/,
        )
      }
    }
  })

  it('serves an interactive docs page that loads the document', async () => {
    const res = await api.call('GET', '/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(res.body).toContain('./openapi.json')
  })
})
