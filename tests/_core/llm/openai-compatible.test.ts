import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openAiCompatibleProvider } from '../../../functions/_core/llm/openai-compatible.ts'
import type { StreamEvent } from '../../../functions/_core/llm/provider.ts'
import { startFakeLlm, type FakeLlm } from '../../harness/fake-llm.ts'

let llm: FakeLlm
beforeAll(async () => {
  llm = await startFakeLlm()
})
afterAll(() => llm.close())

const provider = () => openAiCompatibleProvider({ baseUrl: llm.baseUrl, apiKey: 'sk-test', defaultModel: 'gpt-4o-mini', retryBaseMs: 5 })
const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Hi there' }] }

async function collect(events: AsyncIterable<StreamEvent>) {
  const out: StreamEvent[] = []
  for await (const e of events) out.push(e)
  return out
}

describe('the OpenAI-compatible provider', () => {
  it('answers blocking requests with the reply and the reported usage, sending the key', async () => {
    llm.script = () => ({ reply: 'Blocking reply.', usage: { prompt_tokens: 3, completion_tokens: 2 } })
    const completion = await provider().complete(request)
    expect(completion).toEqual({ text: 'Blocking reply.', model: 'gpt-4o-mini', usage: { promptTokens: 3, completionTokens: 2, estimated: false } })
    expect(llm.requests.at(-1)!.headers.authorization).toBe('Bearer sk-test')
    expect(llm.requests.at(-1)!.body.stream).toBeUndefined()
  })

  it('estimates usage a provider leaves out, blocking and streaming', async () => {
    llm.script = () => ({ reply: 'Eight ch', usage: false })
    expect((await provider().complete(request)).usage).toEqual({ promptTokens: 2, completionTokens: 2, estimated: true })
    const events = await collect(provider().stream(request))
    expect(events.at(-1)).toEqual({ type: 'done', model: 'gpt-4o-mini', usage: { promptTokens: 2, completionTokens: 2, estimated: true } })
  })

  it('streams the deltas and asks for usage in the stream', async () => {
    llm.script = () => ({ chunks: ['a', 'b', 'c'], usage: { prompt_tokens: 5, completion_tokens: 3 } })
    const events = await collect(provider().stream(request))
    expect(events).toEqual([
      { type: 'delta', text: 'a' },
      { type: 'delta', text: 'b' },
      { type: 'delta', text: 'c' },
      { type: 'done', model: 'gpt-4o-mini', usage: { promptTokens: 5, completionTokens: 3, estimated: false } },
    ])
    expect(llm.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true })
  })

  it('gives up after its retries with the provider\'s own message, and does not retry a 4xx', async () => {
    llm.script = () => ({ status: 503 })
    const before = llm.requests.length
    await expect(provider().complete(request)).rejects.toMatchObject({ code: 'provider_error', status: 502, message: 'The model provider failed: 503: scripted failure 503' })
    expect(llm.requests.length - before).toBe(3)
    llm.script = () => ({ status: 404 })
    const again = llm.requests.length
    await expect(collect(provider().stream(request))).rejects.toMatchObject({ code: 'provider_error' })
    expect(llm.requests.length - again).toBe(1)
  })

  it('reports an unreachable provider as a provider error', async () => {
    const offline = openAiCompatibleProvider({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: null, defaultModel: 'x', attempts: 2, retryBaseMs: 1 })
    await expect(offline.complete(request)).rejects.toMatchObject({ code: 'provider_error', message: expect.stringMatching(/unreachable/) })
  })
})
