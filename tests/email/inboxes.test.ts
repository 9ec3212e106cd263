import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDomainInboxRoute } from '../../functions/email/inboxes/create-domain-inbox.ts'
import { createInboxRoute } from '../../functions/email/inboxes/create-inbox.ts'
import { deleteDomainInboxRoute } from '../../functions/email/inboxes/delete-domain-inbox.ts'
import { deleteInboxRoute } from '../../functions/email/inboxes/delete-inbox.ts'
import { getDomainInboxRoute } from '../../functions/email/inboxes/get-domain-inbox.ts'
import { getInboxRoute } from '../../functions/email/inboxes/get-inbox.ts'
import { listDomainInboxesRoute } from '../../functions/email/inboxes/list-domain-inboxes.ts'
import { listInboxesRoute } from '../../functions/email/inboxes/list-inboxes.ts'
import { removeExtractionSchemaRoute } from '../../functions/email/inboxes/remove-extraction-schema.ts'
import { removeInboxExtractionSchemaRoute } from '../../functions/email/inboxes/remove-inbox-extraction-schema.ts'
import { setExtractionSchemaRoute } from '../../functions/email/inboxes/set-extraction-schema.ts'
import { setInboxExtractionSchemaRoute } from '../../functions/email/inboxes/set-inbox-extraction-schema.ts'
import { updateDomainInboxRoute } from '../../functions/email/inboxes/update-domain-inbox.ts'
import { updateInboxRoute } from '../../functions/email/inboxes/update-inbox.ts'
import { startApi, type TestApi } from '../harness/api.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
beforeAll(async () => {
  api = await startApi()
})
afterAll(() => api.close())

const uniquePart = () => `agent-${crypto.randomUUID().slice(0, 8)}`
const uniqueDomain = () => `d${crypto.randomUUID().slice(0, 8)}.example.com`

/** A custom domain of t's, made straight in the database (its key is not what these tests are about). */
async function domainOf(t: Tenant): Promise<{ id: string; name: string }> {
  const name = uniqueDomain()
  const [row] = await serviceSql()<{ id: string }[]>`
    insert into agentry.email_domains (org_id, name, dkim_selector, dkim_private_key, dkim_public_key)
    values (${t.org.id}, ${name}, 'agentry', 'not a key', 'not a key') returning id`
  return { id: row.id, name }
}

async function inboxOf(t: Tenant, options: { agent?: 'agent' | 'otherAgent'; domain?: { id: string; name: string } } = {}) {
  const agentId = options.agent ? t[options.agent].id : null
  const [row] = await serviceSql()<{ id: string; address: string }[]>`
    insert into agentry.email_inboxes (org_id, domain_id, domain, local_part, agent_id)
    values (${t.org.id}, ${options.domain?.id ?? null}, ${options.domain?.name ?? 'agents.localhost'}, ${uniquePart()}, ${agentId})
    returning id, address`
  return row
}

const sharedInbox = (agent: 'agent' | 'otherAgent') => async (t: Tenant) => ({ id: (await inboxOf(t, { agent })).id })
const domainInbox = (agent: 'agent' | 'otherAgent') => async (t: Tenant) => {
  const domain = await domainOf(t)
  return { id: domain.id, inboxId: (await inboxOf(t, { agent, domain })).id }
}
const schema = { name: 'ticket', schema: { type: 'object', properties: { order_id: { type: 'string' } } } }

describeSecurity(listInboxesRoute, {}, () => api)
describeSecurity(createInboxRoute, { body: () => ({ local_part: uniquePart() }) }, () => api)
describeSecurity(getInboxRoute, { params: sharedInbox('agent'), otherAgentParams: sharedInbox('otherAgent') }, () => api)
describeSecurity(
  updateInboxRoute,
  { params: sharedInbox('agent'), otherAgentParams: sharedInbox('otherAgent'), body: { name: 'Renamed' } },
  () => api,
)
describeSecurity(deleteInboxRoute, { params: sharedInbox('agent'), otherAgentParams: sharedInbox('otherAgent') }, () => api)
describeSecurity(listDomainInboxesRoute, { params: async (t) => ({ id: (await domainOf(t)).id }) }, () => api)
describeSecurity(
  createDomainInboxRoute,
  { params: async (t) => ({ id: (await domainOf(t)).id }), body: () => ({ local_part: uniquePart() }) },
  () => api,
)
describeSecurity(getDomainInboxRoute, { params: domainInbox('agent'), otherAgentParams: domainInbox('otherAgent') }, () => api)
describeSecurity(
  updateDomainInboxRoute,
  { params: domainInbox('agent'), otherAgentParams: domainInbox('otherAgent'), body: { name: 'Renamed' } },
  () => api,
)
describeSecurity(deleteDomainInboxRoute, { params: domainInbox('agent'), otherAgentParams: domainInbox('otherAgent') }, () => api)
describeSecurity(
  setExtractionSchemaRoute,
  { params: domainInbox('agent'), otherAgentParams: domainInbox('otherAgent'), body: schema },
  () => api,
)
describeSecurity(removeExtractionSchemaRoute, { params: domainInbox('agent'), otherAgentParams: domainInbox('otherAgent') }, () => api)

describeSecurity(
  setInboxExtractionSchemaRoute,
  { params: sharedInbox('agent'), otherAgentParams: sharedInbox('otherAgent'), body: schema },
  () => api,
)
describeSecurity(removeInboxExtractionSchemaRoute, { params: sharedInbox('agent'), otherAgentParams: sharedInbox('otherAgent') }, () => api)

describe('inboxes on the shared domain', () => {
  it("keeps the shared domain's role addresses for the operator", async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part: 'Postmaster' } })
    expect(res.status).toBe(409)
    expect(res.body.error).toEqual({ code: 'conflict', message: 'The address postmaster@agents.localhost is reserved.' })
    const { id } = await inboxOf(t)
    const renamed = await api.call('PATCH', `/inboxes/${id}`, { key: await t.key(), body: { local_part: 'abuse' } })
    expect(renamed.status).toBe(409)
    const domain = await domainOf(t)
    const own = await api.call('POST', `/domains/${domain.id}/inboxes`, { key: await t.key(), body: { local_part: 'postmaster' } })
    expect(own.status).toBe(201)
  })

  it('creates an inbox with no DNS, its local part lower-cased, and gets it back', async () => {
    const t = await createTenant()
    const key = await t.key()
    const part = uniquePart()
    const res = await api.call('POST', '/inboxes', { key, body: { local_part: ` ${part.toUpperCase()} `, name: 'Sales Agent' } })
    expect(res.status).toBe(201)
    expect(res.body.data).toEqual({
      id: expect.any(String),
      address: `${part}@agents.localhost`,
      local_part: part,
      domain: 'agents.localhost',
      domain_id: null,
      name: 'Sales Agent',
      agent_id: null,
      status: 'active',
      requires_approval: false,
      webhook_endpoint_id: null,
      extraction_schema: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect((await api.call('GET', `/inboxes/${res.body.data.id}`, { key })).body.data).toEqual(res.body.data)
    expect((await api.call('GET', '/inboxes', { key })).body).toEqual({ data: [res.body.data], next_cursor: null, has_more: false })
  })

  it('rejects a malformed local part with 400 saying what is allowed', async () => {
    const t = await createTenant()
    for (const local_part of ['', '-sales', 'sales-', 'sales agent', 'ventes-é', 'a'.repeat(65), 'a@b']) {
      const res = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part } })
      expect(res.status, local_part).toBe(400)
      expect(res.body.error.fields).toEqual([
        {
          field: 'local_part',
          message: 'Use 1–64 letters, digits, dots, hyphens, underscores or plus signs, starting and ending with a letter or digit.',
        },
      ])
    }
  })

  it('answers 409 for an address taken, by this organisation or any other', async () => {
    const first = await createTenant()
    const second = await createTenant()
    const part = uniquePart()
    expect((await api.call('POST', '/inboxes', { key: await first.key(), body: { local_part: part } })).status).toBe(201)
    for (const t of [first, second]) {
      const res = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part: part } })
      expect(res.status).toBe(409)
      expect(res.body.error).toEqual({ code: 'conflict', message: `The address ${part}@agents.localhost is already taken.` })
    }
  })

  it("gives an agent key's inbox to its agent, and refuses another agent", async () => {
    const t = await createTenant()
    const key = await t.key({ agent: 'agent' })
    const mine = await api.call('POST', '/inboxes', { key, body: { local_part: uniquePart() } })
    expect(mine.body.data.agent_id).toBe(t.agent.id)
    const theirs = await api.call('POST', '/inboxes', { key, body: { local_part: uniquePart(), agent_id: t.otherAgent.id } })
    expect(theirs.status).toBe(404)
    const named = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part: uniquePart(), agent_id: t.otherAgent.id } })
    expect(named.body.data.agent_id).toBe(t.otherAgent.id)
    const listed = await api.call('GET', '/inboxes', { key })
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([mine.body.data.id])
  })

  it('answers 404 for an agent of another organisation', async () => {
    const t = await createTenant()
    const other = await createTenant()
    const res = await api.call('POST', '/inboxes', { key: await t.key(), body: { local_part: uniquePart(), agent_id: other.agent.id } })
    expect(res.status).toBe(404)
    expect(res.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
  })

  it('changes the local part, name and status with PATCH', async () => {
    const t = await createTenant()
    const { id } = await inboxOf(t)
    const part = uniquePart()
    const res = await api.call('PATCH', `/inboxes/${id}`, {
      key: await t.key(),
      body: { local_part: part, name: 'Desk', status: 'disabled' },
    })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ address: `${part}@agents.localhost`, name: 'Desk', status: 'disabled' })
  })

  it('answers 409 when PATCH moves an inbox onto a taken address', async () => {
    const t = await createTenant()
    const taken = await inboxOf(t)
    const { id } = await inboxOf(t)
    const res = await api.call('PATCH', `/inboxes/${id}`, { key: await t.key(), body: { local_part: taken.address.split('@')[0] } })
    expect(res.status).toBe(409)
    expect(res.body.error.message).toBe(`The address ${taken.address} is already taken.`)
  })

  it('deletes an inbox and answers it as it was', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id, address } = await inboxOf(t)
    const res = await api.call('DELETE', `/inboxes/${id}`, { key })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({ id, address })
    expect((await api.call('GET', `/inboxes/${id}`, { key })).status).toBe(404)
  })
})

describe('inboxes on a custom domain', () => {
  it('creates one under the domain before it is verified, and lists it there only', async () => {
    const t = await createTenant()
    const key = await t.key()
    const domain = await domainOf(t)
    const res = await api.call('POST', `/domains/${domain.id}/inboxes`, { key, body: { local_part: 'support', name: 'Support Inbox' } })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({ address: `support@${domain.name}`, domain: domain.name, domain_id: domain.id })
    const shared = await inboxOf(t)
    const listed = await api.call('GET', `/domains/${domain.id}/inboxes`, { key })
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([res.body.data.id])
    const all = await api.call('GET', '/inboxes', { key })
    expect(all.body.data.map((i: { id: string }) => i.id)).toEqual([shared.id, res.body.data.id])
    const got = await api.call('GET', `/domains/${domain.id}/inboxes/${res.body.data.id}`, { key })
    expect(got.body.data).toEqual(res.body.data)
  })

  it('works for a key holding inbox scopes and none for domains', async () => {
    const t = await createTenant()
    const domain = await domainOf(t)
    const res = await api.call('POST', `/domains/${domain.id}/inboxes`, {
      key: await t.key({ scopes: ['inboxes:write'] }),
      body: { local_part: 'hello' },
    })
    expect(res.status).toBe(201)
    expect(res.body.data.address).toBe(`hello@${domain.name}`)
  })

  it("answers 404 for an inbox named under a domain that is not its own, and for another organisation's domain", async () => {
    const t = await createTenant()
    const key = await t.key()
    const domain = await domainOf(t)
    const elsewhere = await domainOf(t)
    const inbox = await inboxOf(t, { domain })
    const wrong = await api.call('GET', `/domains/${elsewhere.id}/inboxes/${inbox.id}`, { key })
    expect(wrong.status).toBe(404)
    expect(wrong.body.error.message).toBe('Inbox not found.')
    const other = await domainOf(await createTenant())
    const res = await api.call('POST', `/domains/${other.id}/inboxes`, { key, body: { local_part: 'x' } })
    expect(res.status).toBe(404)
    expect(res.body.error.message).toBe('Domain not found.')
  })

  it('updates with PUT and deletes an inbox of the domain', async () => {
    const t = await createTenant()
    const key = await t.key()
    const domain = await domainOf(t)
    const inbox = await inboxOf(t, { domain })
    const put = await api.call('PUT', `/domains/${domain.id}/inboxes/${inbox.id}`, { key, body: { local_part: 'billing' } })
    expect(put.body.data.address).toBe(`billing@${domain.name}`)
    const deleted = await api.call('DELETE', `/domains/${domain.id}/inboxes/${inbox.id}`, { key })
    expect(deleted.status).toBe(200)
    expect((await api.call('GET', `/domains/${domain.id}/inboxes`, { key })).body.data).toEqual([])
  })

  it('deletes its inboxes with the domain', async () => {
    const t = await createTenant()
    const domain = await domainOf(t)
    const inbox = await inboxOf(t, { domain })
    await serviceSql()`delete from agentry.email_domains where id = ${domain.id}`
    expect((await api.call('GET', `/inboxes/${inbox.id}`, { key: await t.key() })).status).toBe(404)
  })
})

describe('extraction schemas', () => {
  it('sets a schema, enabled by default, and removes it', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id, inboxId } = await domainInbox('agent')(t)
    const path = `/domains/${id}/inboxes/${inboxId}/extraction-schema`
    const body = {
      name: 'support_ticket',
      description: 'Extract structured data from customer support emails',
      schema: { type: 'object', properties: { urgency: { type: 'string', enum: ['low', 'high'] }, wants_refund: { type: 'boolean' } } },
    }
    const set = await api.call('PUT', path, { key, body })
    expect(set.status).toBe(200)
    expect(set.body.data.extraction_schema).toEqual({ ...body, enabled: true })
    const off = await api.call('PUT', path, { key, body: { ...body, description: undefined, enabled: false } })
    expect(off.body.data.extraction_schema).toEqual({ ...body, description: null, enabled: false })
    const removed = await api.call('DELETE', path, { key })
    expect(removed.body.data.extraction_schema).toBeNull()
  })

  it('sets and removes the schema of a shared-domain inbox by its id alone', async () => {
    const t = await createTenant()
    const key = await t.key()
    const { id } = await inboxOf(t)
    const set = await api.call('PUT', `/inboxes/${id}/extraction-schema`, { key, body: schema })
    expect(set.body.data.extraction_schema).toEqual({ ...schema, description: null, enabled: true })
    const removed = await api.call('DELETE', `/inboxes/${id}/extraction-schema`, { key })
    expect(removed.body.data.extraction_schema).toBeNull()
  })

  it('refuses a schema that is not an object schema with properties', async () => {
    const t = await createTenant()
    const { id, inboxId } = await domainInbox('agent')(t)
    const path = `/domains/${id}/inboxes/${inboxId}/extraction-schema`
    const cases: [unknown, string][] = [
      [{ type: 'array', items: {} }, 'schema: The schema must be a JSON Schema of "type": "object".'],
      [{ type: 'object' }, 'schema: The schema must name the fields to extract in "properties".'],
      [{ type: 'object', properties: [] }, 'schema: The schema must name the fields to extract in "properties".'],
      ['{"type":"object"}', 'schema: Invalid input: expected record, received string'],
    ]
    for (const [bad, message] of cases) {
      const res = await api.call('PUT', path, { key: await t.key(), body: { name: 'x', schema: bad } })
      expect(res.status).toBe(400)
      expect(res.body.error.message).toBe(`Invalid request: ${message}`)
    }
  })
})

describe('inbox webhooks', () => {
  it('makes an ordinary webhook endpoint filtered by the inbox, hearing message.received, with its secret once', async () => {
    const t = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', '/inboxes', {
      key,
      body: { local_part: uniquePart(), webhook: { endpoint: 'https://hooks.example.com/email', events: ['inbound'] } },
    })
    expect(res.status).toBe(201)
    const inbox = res.body.data
    expect(inbox.webhook_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const endpoint = await api.call('GET', `/webhooks/${inbox.webhook_endpoint_id}`, { key })
    expect(endpoint.body.data).toMatchObject({
      url: 'https://hooks.example.com/email',
      events: ['message.received'],
      filters: { inbox_id: inbox.id },
      enabled: true,
      description: `Inbox ${inbox.address}`,
    })
    expect((await api.call('GET', `/inboxes/${inbox.id}`, { key })).body.data.webhook_secret).toBeUndefined()
  })

  it('points the same endpoint elsewhere on update, and removes it with webhook: null', async () => {
    const t = await createTenant()
    const key = await t.key()
    const created = await api.call('POST', '/inboxes', {
      key,
      body: { local_part: uniquePart(), webhook: { endpoint: 'https://hooks.example.com/a' } },
    })
    const { id, webhook_endpoint_id: endpointId } = created.body.data
    const moved = await api.call('PATCH', `/inboxes/${id}`, {
      key,
      body: { webhook: { endpoint: 'https://hooks.example.com/b', events: ['inbound', 'sent'] } },
    })
    expect(moved.body.data.webhook_endpoint_id).toBe(endpointId)
    expect(moved.body.data.webhook_secret).toBeUndefined()
    const endpoint = await api.call('GET', `/webhooks/${endpointId}`, { key })
    expect(endpoint.body.data).toMatchObject({ url: 'https://hooks.example.com/b', events: ['message.received', 'message.sent'] })
    const removed = await api.call('PATCH', `/inboxes/${id}`, { key, body: { webhook: null } })
    expect(removed.body.data.webhook_endpoint_id).toBeNull()
    expect((await api.call('GET', `/webhooks/${endpointId}`, { key })).status).toBe(404)
  })

  it('deletes the endpoint with the inbox', async () => {
    const t = await createTenant()
    const key = await t.key()
    const created = await api.call('POST', '/inboxes', {
      key,
      body: { local_part: uniquePart(), webhook: { endpoint: 'https://hooks.example.com/a' } },
    })
    await api.call('DELETE', `/inboxes/${created.body.data.id}`, { key })
    expect((await api.call('GET', `/webhooks/${created.body.data.webhook_endpoint_id}`, { key })).status).toBe(404)
  })

  it('refuses a webhook to a key without webhooks:write, and makes no inbox', async () => {
    const t = await createTenant()
    const part = uniquePart()
    const res = await api.call('POST', '/inboxes', {
      key: await t.key({ scopes: ['inboxes:write'] }),
      body: { local_part: part, webhook: { endpoint: 'https://hooks.example.com/a' } },
    })
    expect(res.status).toBe(403)
    expect(res.body.error).toEqual({
      code: 'insufficient_scope',
      message: 'An inbox webhook is a webhook endpoint: this API key also needs the scope "webhooks:write".',
    })
    const [row] = await serviceSql()`select count(*)::int as n from agentry.email_inboxes where local_part = ${part}`
    expect(row.n).toBe(0)
  })

  it('refuses a webhook to a private address', async () => {
    const t = await createTenant()
    const res = await api.call('POST', '/inboxes', {
      key: await t.key(),
      body: { local_part: uniquePart(), webhook: { endpoint: 'http://127.0.0.1:9/hook' } },
    })
    expect(res.status).toBe(400)
    expect(res.body.error.fields).toEqual([{ field: 'webhook.endpoint', message: 'private, loopback or link-local address' }])
  })

  it("counts an inbox webhook against the plan's endpoints", async () => {
    const t = await createTenant()
    const sql = serviceSql()
    const [{ max }] = await sql<{ max: number }[]>`
      select p.max_webhook_endpoints as max from agentry.plans p join agentry.organisations o on o.plan = p.id where o.id = ${t.org.id}`
    const key = await t.key()
    for (let i = 0; i < max; i++) {
      await sql`
        insert into agentry.webhook_endpoints (org_id, url, events, secret)
        values (${t.org.id}, ${`https://hooks.example.com/${i}`}, ${['message.received']}, 'whsec_x')`
    }
    const res = await api.call('POST', '/inboxes', {
      key,
      body: { local_part: uniquePart(), webhook: { endpoint: 'https://hooks.example.com/a' } },
    })
    expect(res.status).toBe(409)
    expect(res.body.error.message).toMatch(/the most its plan \(Free\) allows \(max_webhook_endpoints: 10\); an inbox webhook is one/)
  })
})
