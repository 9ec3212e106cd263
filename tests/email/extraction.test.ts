import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Job, JobContext } from '../../functions/_core/jobs/types.ts'
import { openAiCompatibleProvider } from '../../functions/_core/llm/openai-compatible.ts'
import { extractMessageJob, extractMessageKind } from '../../functions/email/extraction/extract-message.ts'
import { extractByRules } from '../../functions/email/extraction/rules.ts'
import { jobHandlers } from '../../functions/jobs.ts'
import { type FakeLlm, startFakeLlm } from '../harness/fake-llm.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

// Commune's own example schema: a support ticket.
const supportTicket = {
  type: 'object',
  properties: {
    order_id: { type: 'string' },
    issue_type: { type: 'string', enum: ['shipping', 'billing', 'product', 'refund', 'other'] },
    urgency: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
    customer_name: { type: 'string' },
    wants_refund: { type: 'boolean' },
  },
  additionalProperties: false,
}

let llm: FakeLlm
beforeAll(async () => {
  llm = await startFakeLlm()
})
afterAll(() => llm.close())
beforeEach(() => {
  llm.requests.length = 0
})

const model = () => openAiCompatibleProvider({ baseUrl: llm.baseUrl, apiKey: null, defaultModel: 'gpt-4o-mini', attempts: 1 })

/** An inbox with the extraction schema, and one inbound message in it, stored as inbound mail stores it. */
async function receivedMessage(
  t: Tenant,
  text: string,
  options: { enabled?: boolean; schema?: object; subject?: string; agent?: boolean } = {},
) {
  const sql = serviceSql()
  const config = {
    name: 'support_ticket',
    description: 'Support emails',
    schema: options.schema ?? supportTicket,
    enabled: options.enabled ?? true,
  }
  const [inbox] = await sql<{ id: string }[]>`
    insert into agentry.email_inboxes (org_id, domain, local_part, extraction_schema, agent_id)
    values (${t.org.id}, 'agents.localhost', ${`support-${crypto.randomUUID().slice(0, 8)}`}, ${sql.json(config as never)},
      ${options.agent ? t.agent.id : null})
    returning id`
  const [thread] = await sql<{ id: string }[]>`
    insert into agentry.email_threads (org_id, inbox_id, subject) values (${t.org.id}, ${inbox.id}, 'Order 1042') returning id`
  const [message] = await sql<{ id: string }[]>`
    insert into agentry.email_messages (org_id, inbox_id, thread_id, direction, message_id_header, from_address, from_name,
      to_addresses, subject, text, extracted_text, status, size_bytes)
    values (${t.org.id}, ${inbox.id}, ${thread.id}, 'inbound', ${`${crypto.randomUUID()}@example.com`}, 'jane@example.com',
      'Jane Doe', ${['support@agents.localhost']}, ${options.subject ?? 'My order 1042'}, ${text}, ${text}, 'received', ${text.length})
    returning id`
  return message.id
}

function jobFor(t: Tenant, messageId: string, attempt = 1): Job {
  return { id: crypto.randomUUID(), orgId: t.org.id, kind: extractMessageKind, payload: { message_id: messageId }, attempt, maxAttempts: 3 }
}

const context = (): JobContext => ({ sql: serviceSql(), progress: async () => {}, signal: new AbortController().signal })

async function extractionOf(messageId: string) {
  const [row] = await serviceSql()<{ extracted_data: Record<string, unknown> | null; extraction_error: string | null; text: string }[]>`
    select extracted_data, extraction_error, text from agentry.email_messages where id = ${messageId}`
  return row
}

describe('extraction with a model', () => {
  it("asks for the schema's structured output and stores the answer once it matches the schema", async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Hi, order #1042 never arrived. I would like my money back. Jane')
    const answer = { order_id: '1042', issue_type: 'shipping', urgency: 'high', customer_name: 'Jane Doe', wants_refund: true }
    llm.script = () => ({ reply: JSON.stringify(answer) })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect(await extractionOf(id)).toMatchObject({ extracted_data: answer, extraction_error: null })
    const [request] = llm.requests
    expect(request.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'support_ticket', schema: supportTicket } })
    expect(request.body.temperature).toBe(0)
    // Stored as jsonb, the schema comes back with its keys in another order: compared as JSON.
    expect(JSON.parse(request.body.messages[0].content.split('JSON Schema:\n')[1])).toEqual(supportTicket)
    expect(request.body.messages[1].content).toBe(
      'From: Jane Doe <jane@example.com>\nSubject: My order 1042\n\nHi, order #1042 never arrived. I would like my money back. Jane',
    )
  })

  it('asks again in JSON mode when the server refuses structured output, and reads JSON in a code fence', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Billing question about order 7.')
    llm.script = (body) =>
      body.response_format?.type === 'json_schema' ? { status: 400 } : { reply: '```json\n{"order_id":"7","issue_type":"billing"}\n```' }
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect(llm.requests.map((r) => r.body.response_format.type)).toEqual(['json_schema', 'json_object'])
    expect(await extractionOf(id)).toMatchObject({ extracted_data: { order_id: '7', issue_type: 'billing' }, extraction_error: null })
  })

  it("records an answer that breaks the schema as the message's extraction_error, keeping the message", async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Where is my parcel?')
    llm.script = () => ({ reply: JSON.stringify({ issue_type: 'lost', wants_refund: 'maybe' }) })
    await extractMessageJob(model).run(jobFor(t, id), context())
    const stored = await extractionOf(id)
    expect(stored.extracted_data).toBeNull()
    expect(stored.extraction_error).toMatch(/^The model's answer does not match the schema: /)
    expect(stored.extraction_error).toContain('/issue_type')
    expect(stored.extraction_error).toContain('/wants_refund')
    expect(stored.text).toBe('Where is my parcel?')
  })

  it('records an answer that is not JSON', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Hello there')
    llm.script = () => ({ reply: 'Sure! The order id is 12.' })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect(await extractionOf(id)).toMatchObject({ extracted_data: null, extraction_error: "The model's answer was not JSON." })
  })

  it('records a request the provider refuses without trying again', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Hello there')
    llm.script = () => ({ status: 422 })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect((await extractionOf(id)).extraction_error).toBe('The model provider failed: 422: scripted failure 422')
  })

  it('fails the attempt, to be tried again, while the provider is down; the last failure is recorded', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Hello there')
    llm.script = () => ({ status: 503 })
    const kind = extractMessageJob(model)
    await expect(kind.run(jobFor(t, id), context())).rejects.toThrow('The model provider failed: 503: scripted failure 503')
    expect(await extractionOf(id)).toMatchObject({ extracted_data: null, extraction_error: null, text: 'Hello there' })
    await kind.failed?.(jobFor(t, id, 3), 'The model provider failed: 503: scripted failure 503', { sql: serviceSql() })
    expect((await extractionOf(id)).extraction_error).toBe('The model provider failed: 503: scripted failure 503')
  })

  it('does nothing for an inbox whose schema has since been disabled', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Order ID: 5', { enabled: false })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect(llm.requests).toHaveLength(0)
    expect(await extractionOf(id)).toMatchObject({ extracted_data: null, extraction_error: null })
  })

  it("never reads another organisation's message", async () => {
    const owner = await createTenant()
    const other = await createTenant()
    const id = await receivedMessage(owner, 'Order ID: 5')
    await extractMessageJob(model).run(jobFor(other, id), context())
    expect(llm.requests).toHaveLength(0)
    expect(await extractionOf(id)).toMatchObject({ extracted_data: null, extraction_error: null })
  })
})

/** What the usage ledger holds for the message. */
const usageOf = (messageId: string) =>
  serviceSql()`
    select org_id, agent_id, key_id, conversation_id, provider, model, prompt_tokens, completion_tokens, total_tokens, estimated,
      cost_usd::float8 as cost_usd
    from agentry.usage_records where message_id = ${messageId}`

describe("extraction's model usage", () => {
  it("is recorded like chat's: tokens and cost, for the organisation, the inbox's agent and the message", async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Order 1042, please hurry.', { agent: true })
    llm.script = () => ({ reply: '{"order_id":"1042"}', usage: { prompt_tokens: 1000, completion_tokens: 500 } })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect(await usageOf(id)).toEqual([
      {
        org_id: t.org.id,
        agent_id: t.agent.id,
        key_id: null,
        conversation_id: null,
        provider: 'openai-compatible',
        model: 'gpt-4o-mini',
        prompt_tokens: 1000,
        completion_tokens: 500,
        total_tokens: 1500,
        estimated: false,
        // gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million completion tokens.
        cost_usd: 0.00045,
      },
    ])
  })

  it('is recorded when the answer breaks the schema: the tokens were spent', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Where is my parcel?')
    llm.script = () => ({ reply: JSON.stringify({ issue_type: 'lost' }), usage: { prompt_tokens: 40, completion_tokens: 9 } })
    await extractMessageJob(model).run(jobFor(t, id), context())
    expect((await extractionOf(id)).extraction_error).toMatch(/does not match the schema/)
    expect(await usageOf(id)).toMatchObject([{ agent_id: null, prompt_tokens: 40, completion_tokens: 9 }])
  })

  it('is estimated from the text when the provider reports none', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Order 55 arrived broken.')
    llm.script = () => ({ reply: '{"order_id":"55"}', usage: false })
    await extractMessageJob(model).run(jobFor(t, id), context())
    const [row] = await usageOf(id)
    expect(row.estimated).toBe(true)
    expect(row.prompt_tokens).toBeGreaterThan(0)
    expect(row.completion_tokens).toBeGreaterThan(0)
  })

  it('is not recorded when the provider refuses the request, or when the rules extract with no model', async () => {
    const t = await createTenant()
    const refused = await receivedMessage(t, 'Hello there')
    llm.script = () => ({ status: 422 })
    await extractMessageJob(model).run(jobFor(t, refused), context())
    const byRules = await receivedMessage(t, 'Order ID: 77')
    await extractMessageJob(() => null).run(jobFor(t, byRules), context())
    expect((await extractionOf(byRules)).extracted_data).not.toBeNull()
    expect(await usageOf(refused)).toEqual([])
    expect(await usageOf(byRules)).toEqual([])
  })
})

describe('extraction with no model', () => {
  it("fills what the rules find, labelled as the rules' work", async () => {
    const t = await createTenant()
    const id = await receivedMessage(
      t,
      'Hello,\n\nOrder ID: A-1042\nCustomer name: Jane Doe\n\nThis is urgent, I think it is a billing mistake.\nWants refund? Yes please.\n',
    )
    await extractMessageJob(() => null).run(jobFor(t, id), context())
    expect(await extractionOf(id)).toMatchObject({
      extracted_data: { _extractor: 'rules', order_id: 'A-1042', customer_name: 'Jane Doe', issue_type: 'billing', wants_refund: true },
      extraction_error: null,
    })
  })

  it('is what the registered job does when LLM_BASE_URL is unset', async () => {
    const t = await createTenant()
    const id = await receivedMessage(t, 'Urgency: LOW')
    const saved = process.env.LLM_BASE_URL
    delete process.env.LLM_BASE_URL
    try {
      const kind = jobHandlers[extractMessageKind]
      await (typeof kind === 'function' ? kind : kind.run)(jobFor(t, id), context())
    } finally {
      if (saved !== undefined) process.env.LLM_BASE_URL = saved
    }
    expect((await extractionOf(id)).extracted_data).toEqual({ _extractor: 'rules', urgency: 'low' })
  })
})

describe('the rules', () => {
  it('match labels whatever their case, spaces, underscores or dashes', () => {
    const schema = { properties: { order_id: { type: 'string' }, 'delivery-date': { type: 'string' }, Total: { type: 'number' } } }
    expect(extractByRules(schema, 'ORDER ID: 77\n  - Delivery Date = 1 December\ntotal: 1,250.50')).toEqual({
      _extractor: 'rules',
      order_id: '77',
      'delivery-date': '1 December',
      Total: 1250.5,
    })
  })

  it('take the first of a repeated label, and only values of the right type', () => {
    const schema = { properties: { quantity: { type: 'integer' }, note: { type: 'string' } } }
    expect(extractByRules(schema, 'Quantity: many\nNote: first\nNote: second')).toEqual({ _extractor: 'rules', note: 'first' })
    expect(extractByRules(schema, 'quantity: 3')).toEqual({ _extractor: 'rules', quantity: 3 })
  })

  it('find an enum word as a whole word, the earliest named', () => {
    const schema = { properties: { urgency: { enum: ['low', 'medium', 'high'] } } }
    expect(extractByRules(schema, 'Please follow up: this is highly unusual, medium priority, not high.')).toEqual({
      _extractor: 'rules',
      urgency: 'medium',
    })
    expect(extractByRules(schema, 'Nothing to see, follow up slowly.')).toEqual({ _extractor: 'rules' })
    expect(extractByRules(schema, 'Urgency: very HIGH indeed')).toEqual({ _extractor: 'rules', urgency: 'high' })
  })

  it('read yes, no, true and false beside a boolean property named in words', () => {
    const schema = { properties: { wants_refund: { type: 'boolean' }, is_vip: { type: ['boolean', 'null'] }, gift: { type: 'boolean' } } }
    expect(extractByRules(schema, 'Do I want a refund? no.\nwants refund - no\nIs VIP: true\nNo mention of the other one.')).toEqual({
      _extractor: 'rules',
      wants_refund: false,
      is_vip: true,
    })
  })

  it('leave out what the text does not give, and read a schema without properties as empty', () => {
    expect(extractByRules({ properties: { order_id: { type: 'string' } } }, 'Hello')).toEqual({ _extractor: 'rules' })
    expect(extractByRules({ type: 'object' }, 'order_id: 1')).toEqual({ _extractor: 'rules' })
  })
})
