// A streamed chat whose budget is spent after the stream started: the agent's knowledge is searched once the
// stream is open, and embedding the message is a billed call of its own. When that call spends the agent's
// budget, the chat's own model call is refused and the stream ends with an `error` event, budget_exceeded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEvents, startFakeLlm, type FakeLlm } from '../harness/fake-llm.ts'
import { createTenant, serviceSql } from '../harness/tenants.ts'
import { createLinkedBase, indexDocs, indexedKnowledgeSuite } from '../knowledge/recall-indexing.ts'

const knowledge = indexedKnowledgeSuite()
let llm: FakeLlm
beforeAll(async () => {
  llm = await startFakeLlm()
  process.env.LLM_BASE_URL = llm.baseUrl
  process.env.LLM_MODEL = 'gpt-4o-mini'
  llm.script = () => ({ reply: 'Refunds take five days [1].' })
})
afterAll(async () => {
  await llm.close()
})

describe('a streamed chat whose budget is spent once the stream has started', () => {
  it('ends with an error event of code budget_exceeded, after its citations, without asking the model', async () => {
    const t = await createTenant()
    const key = await t.key()
    const baseId = await createLinkedBase(knowledge.api, key, 'Billing', [t.agent.id])
    await indexDocs(knowledge.api, key, baseId, [{ title: 'Refund policy', text: 'Refunds are paid back within five days.' }])
    // A dollar a token: embedding the message spends the agent's budget, and indexing (no agent) does not count.
    await serviceSql()`insert into agentry.model_prices (model, input_per_million, output_per_million, kind)
      values ('fake-embed', 1000000, 0, 'embeddings') on conflict (model) do update set input_per_million = 1000000`
    await serviceSql()`insert into agentry.budgets (org_id, agent_id, period, limit_usd) values (${t.org.id}, ${t.agent.id}, 'day', 0.5)`
    const asked = llm.requests.length

    const res = await fetch(`${knowledge.api.base}/chat/${t.agent.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'How long do refunds take?', stream: true }),
    })
    expect(res.status).toBe(200)
    const events = parseEvents(await res.text())
    expect(events.map((e) => e.event)).toEqual(['message.start', 'citation', 'error', 'done'])
    // The body a 402 answer has, with the budget that was spent.
    expect(events[2].data).toEqual({
      error: {
        code: 'budget_exceeded',
        message: "The agent's daily budget of 0.5 USD is spent.",
        budget_id: expect.any(String),
        agent_id: t.agent.id,
        period: 'day',
        limit_usd: 0.5,
        spent_usd: expect.any(Number),
      },
    })
    expect(llm.requests.length).toBe(asked)

    // The next chat is refused before its stream starts.
    const next = await knowledge.api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'And invoices?', stream: true } })
    expect(next.status).toBe(402)
    expect(next.body.error.code).toBe('budget_exceeded')
  })
})
