// Chat through a fake OpenAI-compatible server on loopback (a real HTTP server speaking the wire protocol):
// blocking and streaming replies, history and instructions, usage and cost, the provider's failure modes,
// stopping, a client leaving, Idempotency-Key, and the offline model when nothing is configured.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sendMessageRoute } from '../../functions/chat/send-message.ts'
import { stopGenerationRoute } from '../../functions/chat/stop-generation.ts'
import type { TestApi } from '../harness/api.ts'
import { parseEvents, startApiWithFakeModel, startStreamedReply, type FakeLlm } from '../harness/fake-llm.ts'
import { describeSecurity } from '../harness/security.ts'
import { createTenant, serviceSql, type Tenant } from '../harness/tenants.ts'

let api: TestApi
let llm: FakeLlm
beforeAll(async () => {
  ;({ api, llm } = await startApiWithFakeModel())
})
afterAll(async () => {
  await api.close()
  await llm.close()
})
beforeEach(() => {
  process.env.LLM_BASE_URL = llm.baseUrl
  llm.script = () => ({ reply: 'Hello from the fake model.' })
})

const agentOf = (agent: 'agent' | 'otherAgent') => (t: Tenant) => ({ agentId: t[agent].id })

describeSecurity(
  sendMessageRoute,
  { params: agentOf('agent'), body: { message: 'hi' }, otherAgentParams: agentOf('otherAgent') },
  () => api,
)
describeSecurity(
  stopGenerationRoute,
  {
    params: agentOf('agent'),
    body: async (t: Tenant) => {
      const res = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), body: { message: 'hi' } })
      return { conversation_id: res.body.data.conversation_id }
    },
  },
  () => api,
)

async function stream(t: Tenant, body: Record<string, unknown>, key?: string) {
  const res = await fetch(`${api.base}/chat/${t.agent.id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key ?? (await t.key())}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  })
  return { res, events: parseEvents(await res.text()) }
}

describe('chatting', () => {
  it("reports as latency the time the reply took: at least the model's, at most the caller's round trip", async () => {
    const t = await createTenant()
    const key = await t.key()
    const sent = performance.now()
    const quick = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Quick one' } })
    const roundTrip = performance.now() - sent
    expect(Number.isInteger(quick.body.data.latency_ms)).toBe(true)
    expect(quick.body.data.latency_ms).toBeLessThanOrEqual(Math.ceil(roundTrip))
    llm.script = () => ({ chunks: ['one ', 'two ', 'three ', 'four ', 'five'], chunkDelayMs: 40 })
    const { events } = await stream(t, { message: 'Slow one' }, key)
    const end = events.find((e) => e.event === 'message.end')!.data
    expect(end.reply).toBe('one two three four five')
    // Five pieces, each 40 ms after the last; a timer may fire a millisecond early.
    expect(end.latency_ms).toBeGreaterThanOrEqual(195)
  })

  it('answers with the reply, its usage and cost, and starts a conversation titled after the message', async () => {
    const t = await createTenant()
    const key = await t.key()
    const res = await api.call('POST', `/chat/${t.agent.id}`, {
      key,
      body: { message: 'What is our refund policy?\nAsking for a customer.', user: 'customer-42' },
    })
    expect(res.status).toBe(200)
    expect(res.body.data).toMatchObject({
      reply: 'Hello from the fake model.',
      status: 'complete',
      model: 'gpt-4o-mini',
      usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, estimated: false },
    })
    expect(res.body.data.usage.cost_usd).toBeCloseTo((11 * 0.15 + 7 * 0.6) / 1e6, 12)
    const conversation = await api.call('GET', `/conversations/${res.body.data.conversation_id}`, { key })
    expect(conversation.body.data).toMatchObject({
      title: 'What is our refund policy?',
      agent_id: t.agent.id,
      user: 'customer-42',
      message_count: 2,
      status: 'open',
    })
    const [ledger] =
      await serviceSql()`select provider, model, prompt_tokens, completion_tokens, total_tokens, cost_usd::float8 as cost, key_id,
        message_id from agentry.usage_records where conversation_id = ${res.body.data.conversation_id}`
    expect(ledger).toMatchObject({
      provider: 'openai-compatible',
      model: 'gpt-4o-mini',
      prompt_tokens: 11,
      completion_tokens: 7,
      total_tokens: 18,
      message_id: res.body.data.message_id,
    })
    expect(ledger.cost).toBeCloseTo(res.body.data.usage.cost_usd, 12)
  })

  it("sends the model the agent's instructions and the conversation so far, and continues it", async () => {
    const t = await createTenant()
    const key = await t.key()
    await api.call('PATCH', `/agents/${t.agent.id}`, {
      key,
      body: { instructions: 'You are Support. Be brief.', model: 'gpt-4o', temperature: 0.2, max_output_tokens: 300 },
    })
    llm.script = (_, n) => ({ reply: `Answer ${n}` })
    const first = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'First question' } })
    const second = await api.call('POST', `/chat/${t.agent.id}`, {
      key,
      body: { message: 'Second question', conversation_id: first.body.data.conversation_id },
    })
    expect(second.body.data.conversation_id).toBe(first.body.data.conversation_id)
    const sent = llm.requests.at(-1)!.body
    expect(sent).toMatchObject({ model: 'gpt-4o', temperature: 0.2, max_tokens: 300, stream: true })
    expect(sent.messages).toEqual([
      { role: 'system', content: 'You are Support. Be brief.' },
      { role: 'user', content: 'First question' },
      { role: 'assistant', content: first.body.data.reply },
      { role: 'user', content: 'Second question' },
    ])
  })

  it('keeps the history within its token budget, dropping the oldest first', async () => {
    const t = await createTenant()
    const key = await t.key()
    const first = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'x'.repeat(40_000) } })
    await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'latest', conversation_id: first.body.data.conversation_id } })
    const sent = llm.requests.at(-1)!.body.messages.map((m: { content: string }) => m.content)
    expect(sent).not.toContain('x'.repeat(40_000))
    expect(sent.at(-1)).toBe('latest')
  })

  it('streams message.start, the deltas, message.end with usage and cost, then done, with increasing ids', async () => {
    const t = await createTenant()
    llm.script = () => ({ reply: 'One two three.' })
    const { res, events } = await stream(t, { message: 'Count' })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(events.map((e) => e.event)).toEqual(['message.start', 'message.delta', 'message.delta', 'message.delta', 'message.end', 'done'])
    expect(events.map((e) => Number(e.id))).toEqual([1, 2, 3, 4, 5, 6])
    expect(
      events
        .slice(1, 4)
        .map((e) => e.data.text)
        .join(''),
    ).toBe('One two three.')
    const [start, end] = [events[0].data, events[4].data]
    expect(start).toMatchObject({ conversation_id: end.conversation_id, message_id: end.message_id, model: 'gpt-4o-mini' })
    expect(end).toMatchObject({ reply: 'One two three.', status: 'complete', usage: { total_tokens: 18, estimated: false } })
  })

  it('estimates the usage when the provider reports none, and says so; copes with a stream without [DONE]', async () => {
    const t = await createTenant()
    llm.script = () => ({ reply: 'Sixteen chars!!!', usage: false, done: false })
    const { events } = await stream(t, { message: 'Hi' })
    const end = events.find((e) => e.event === 'message.end')!.data
    expect(end.reply).toBe('Sixteen chars!!!')
    expect(end.usage).toMatchObject({ completion_tokens: 4, estimated: true })
    const blocking = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), body: { message: 'Hi' } })
    expect(blocking.body.data.usage.estimated).toBe(true)
  })

  it('turns an error frame mid-stream into an error event, keeping what came before as failed', async () => {
    const t = await createTenant()
    llm.script = () => ({ reply: 'Partial answer that breaks', errorAfterChunks: 2 })
    const { events } = await stream(t, { message: 'Hi' })
    expect(events.map((e) => e.event)).toEqual(['message.start', 'message.delta', 'message.delta', 'error', 'done'])
    expect(events[3].data).toEqual({ error: { code: 'provider_error', message: 'The model provider failed: scripted mid-stream failure' } })
    const [stored] = await serviceSql()`select content, status from agentry.messages where id = ${events[0].data.message_id}`
    expect(stored).toEqual({ content: 'Partial answer ', status: 'failed' })
  })

  it("retries a provider's 429s and 5xx a few times, then answers 502 provider_error with its message", async () => {
    const t = await createTenant()
    const key = await t.key()
    llm.script = (_, n) => (n % 3 === 0 ? { reply: 'Third time lucky.' } : { status: n % 2 ? 429 : 503 })
    llm.requests.length = 0
    const ok = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    expect(ok.status).toBe(200)
    expect(ok.body.data.reply).toBe('Third time lucky.')
    expect(llm.requests).toHaveLength(3)
    llm.script = () => ({ status: 500 })
    const failed = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    expect(failed.status).toBe(502)
    expect(failed.body.error).toEqual({ code: 'provider_error', message: 'The model provider failed: 500: scripted failure 500' })
    llm.script = () => ({ status: 400 })
    const refused = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    expect(refused.status).toBe(502)
  })

  it('answers with the built-in offline model when no provider is configured', async () => {
    delete process.env.LLM_BASE_URL
    const t = await createTenant()
    const res = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), body: { message: 'Anyone there?' } })
    expect(res.status).toBe(200)
    expect(res.body.data.model).toBe('offline')
    expect(res.body.data.reply).toMatch(/No language model is configured/)
    expect(res.body.data.reply).toContain('Anyone there?')
    expect(res.body.data.usage).toMatchObject({ cost_usd: 0, estimated: true })
    const { events } = await stream(t, { message: 'Stream it' })
    expect(events.filter((e) => e.event === 'message.delta').length).toBeGreaterThan(5)
  })
})

describe('stopping and leaving', () => {
  it('stops a streaming generation when asked, keeping the reply so far as incomplete', async () => {
    const t = await createTenant()
    const key = await t.key()
    llm.script = () => ({ chunks: Array.from({ length: 50 }, (_, i) => `w${i} `), chunkDelayMs: 50 })
    const reply = await startStreamedReply(api.base, t.agent.id, key, 'Go on')
    const conversationId = parseEvents(reply.text)[0].data.conversation_id
    const stop = await api.call('POST', `/chat/${t.agent.id}/stop`, { key, body: { conversation_id: conversationId } })
    expect(stop.status).toBe(202)
    const events = parseEvents(await reply.readToEnd())
    expect(events.at(-1)!.event).toBe('done')
    const end = events.find((e) => e.event === 'message.end')!.data
    expect(end.status).toBe('incomplete')
    expect(end.reply.split(' ').length).toBeLessThan(50)
    const [stored] = await serviceSql()`select status, content from agentry.messages where id = ${end.message_id}`
    expect(stored).toEqual({ status: 'incomplete', content: end.reply })
  })

  it('stops generating when the client disconnects, and stores the partial reply as incomplete', async () => {
    const t = await createTenant()
    llm.script = () => ({ chunks: Array.from({ length: 100 }, (_, i) => `w${i} `), chunkDelayMs: 30 })
    const controller = new AbortController()
    const reply = await startStreamedReply(api.base, t.agent.id, await t.key(), 'Tell me everything', { signal: controller.signal })
    const text = await reply.readUntil((sofar) => (sofar.match(/message\.delta/g) ?? []).length >= 3)
    const messageId = parseEvents(text.slice(0, text.lastIndexOf('\n\n') + 2))[0].data.message_id
    controller.abort()
    const until = Date.now() + 10_000
    for (;;) {
      const [stored] = await serviceSql()`select status, content from agentry.messages where id = ${messageId}`
      if (stored) {
        expect(stored.status).toBe('incomplete')
        expect(stored.content.split(' ').filter(Boolean).length).toBeLessThan(100)
        break
      }
      if (Date.now() > until) throw new Error('the partial reply was not stored')
      await new Promise((r) => setTimeout(r, 100))
    }
    const upstream = llm.requests.at(-1)!
    expect(upstream.body.stream).toBe(true)
  })
})

describe('Idempotency-Key', () => {
  it('returns the stored reply for a retry with the same key and body, blocking or streamed, without asking the model again', async () => {
    const t = await createTenant()
    const key = await t.key()
    const headers = { 'idempotency-key': `retry-${crypto.randomUUID()}` }
    const before = llm.requests.length
    const first = await api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: 'Once only' } })
    const again = await api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: 'Once only' } })
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    const replayed = await fetch(`${api.base}/chat/${t.agent.id}`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'Once only' }),
    })
    expect(replayed.status).toBe(200)
    expect(replayed.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const reply = first.body.data
    expect(parseEvents(await replayed.text()).map(({ event, data }) => ({ event, data }))).toEqual([
      {
        event: 'message.start',
        data: { conversation_id: reply.conversation_id, message_id: reply.message_id, model: reply.model, replayed: true },
      },
      { event: 'message.delta', data: { text: reply.reply } },
      { event: 'message.end', data: reply },
      { event: 'done', data: {} },
    ])
    expect(llm.requests.length - before).toBe(1)
    const other = await api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: 'Something else' } })
    expect(other.status).toBe(409)
    expect(other.body.error).toEqual({
      code: 'conflict',
      message: 'This Idempotency-Key was used for a different request; use a new key for a new request.',
    })
    const [{ n }] =
      await serviceSql()`select count(*)::int as n from agentry.messages where conversation_id = ${first.body.data.conversation_id}`
    expect(n).toBe(2)
  })
})

describe('Idempotency-Key belongs to the caller', () => {
  it('gives another key of the organisation using the same Idempotency-Key an answer of its own', async () => {
    const t = await createTenant()
    const headers = { 'idempotency-key': `shared-${crypto.randomUUID()}` }
    llm.script = (_, n) => ({ reply: `Answer ${n}` })
    const before = llm.requests.length
    const mine = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), headers, body: { message: 'Same words' } })
    const theirs = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), headers, body: { message: 'Same words' } })
    expect(mine.status).toBe(200)
    expect(theirs.status).toBe(200)
    expect(theirs.body.data.conversation_id).not.toBe(mine.body.data.conversation_id)
    expect(theirs.body.data.reply).not.toBe(mine.body.data.reply)
    expect(llm.requests.length - before).toBe(2)
  })

  it('checks the agent before replaying: once the agent is gone a retry gets 404, not the stored reply', async () => {
    const t = await createTenant()
    const key = await t.key()
    const headers = { 'idempotency-key': `gone-${crypto.randomUUID()}` }
    const first = await api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: 'Hello' } })
    expect(first.status).toBe(200)
    expect((await api.call('DELETE', `/agents/${t.agent.id}`, { key })).status).toBe(200)
    const retry = await api.call('POST', `/chat/${t.agent.id}`, { key, headers, body: { message: 'Hello' } })
    expect(retry.status).toBe(404)
    expect(retry.body.error).toEqual({ code: 'not_found', message: 'Agent not found.' })
  })
})

describe('unpriced models', () => {
  it('records a call to a model with no price as cost_usd null with a warning, never as 0', async () => {
    const t = await createTenant()
    const key = await t.key()
    process.env.AGENT_MODELS = 'gpt-4o-mini, house-model'
    try {
      const set = await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: { model: 'house-model' } })
      expect(set.status).toBe(200)
      const res = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
      expect(res.status).toBe(200)
      expect(res.body.data.model).toBe('house-model')
      expect(res.body.data.usage).toEqual({
        prompt_tokens: 11,
        completion_tokens: 7,
        total_tokens: 18,
        cost_usd: null,
        estimated: false,
        warning: 'No price is set for the model "house-model", so this call\'s cost is unknown (recorded as null).',
      })
      const [ledger] = await serviceSql()`select model, cost_usd from agentry.usage_records where message_id = ${res.body.data.message_id}`
      expect(ledger).toEqual({ model: 'house-model', cost_usd: null })
      const { events } = await stream(t, { message: 'Hi again' }, key)
      expect(events.find((e) => e.event === 'message.end')!.data.usage).toMatchObject({
        cost_usd: null,
        warning: expect.stringMatching(/house-model/),
      })
    } finally {
      delete process.env.AGENT_MODELS
    }
  })

  it('prices a dated model name the provider answers with by the model asked for', async () => {
    const t = await createTenant()
    llm.script = () => ({ reply: 'Dated.', model: 'gpt-4o-mini-2024-07-18' })
    const res = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), body: { message: 'Hi' } })
    expect(res.body.data.model).toBe('gpt-4o-mini-2024-07-18')
    expect(res.body.data.usage.cost_usd).toBeCloseTo((11 * 0.15 + 7 * 0.6) / 1e6, 12)
    expect(res.body.data.usage.warning).toBeUndefined()
  })
})

describe("a provider's error", () => {
  it("reaches the client as the provider's own short message only, with links and keys left out", async () => {
    const t = await createTenant()
    const leaky = http.createServer((_, res) => {
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            message: 'Incorrect API key provided: sk-proj-abc123secret. Find your key at https://platform.example.com/account/api-keys.',
            org: 'org-internal-42',
          },
        }),
      )
    })
    await new Promise<void>((resolve) => leaky.listen(0, '127.0.0.1', resolve))
    process.env.LLM_BASE_URL = `http://127.0.0.1:${(leaky.address() as AddressInfo).port}/v1`
    try {
      const res = await api.call('POST', `/chat/${t.agent.id}`, { key: await t.key(), body: { message: 'Hi' } })
      expect(res.status).toBe(502)
      expect(res.body.error).toEqual({
        code: 'provider_error',
        message: 'The model provider failed: 401: Incorrect API key provided: [redacted]. Find your key at [link]',
      })
    } finally {
      await new Promise((resolve) => leaky.close(resolve))
    }
  })
})

describe('refusals', () => {
  it("refuses a paused agent, a closed conversation and another agent's conversation with clear errors", async () => {
    const t = await createTenant()
    const key = await t.key()
    const first = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    await api.call('PATCH', `/conversations/${first.body.data.conversation_id}`, { key, body: { status: 'closed' } })
    const closed = await api.call('POST', `/chat/${t.agent.id}`, {
      key,
      body: { message: 'Again', conversation_id: first.body.data.conversation_id },
    })
    expect(closed.status).toBe(409)
    expect(closed.body.error.message).toMatch(/closed/)
    const elsewhere = await api.call('POST', `/chat/${t.otherAgent.id}`, {
      key,
      body: { message: 'Hi', conversation_id: first.body.data.conversation_id },
    })
    expect(elsewhere.status).toBe(404)
    await api.call('PATCH', `/agents/${t.agent.id}`, { key, body: { status: 'paused' } })
    const paused = await api.call('POST', `/chat/${t.agent.id}`, { key, body: { message: 'Hi' } })
    expect(paused.status).toBe(409)
    expect(paused.body.error.message).toMatch(/paused/)
    const empty = await api.call('POST', `/chat/${t.otherAgent.id}`, { key, body: { message: '' } })
    expect(empty.status).toBe(400)
  })
})
