import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { openAiCompatibleProvider } from '../../../functions/_core/llm/openai-compatible.ts'
import type { StreamEvent } from '../../../functions/_core/llm/types.ts'
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
    expect(completion).toEqual({
      text: 'Blocking reply.',
      model: 'gpt-4o-mini',
      usage: { promptTokens: 3, completionTokens: 2, estimated: false },
    })
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

  it("gives up after its retries with the provider's own message, and does not retry a 4xx", async () => {
    llm.script = () => ({ status: 503 })
    const before = llm.requests.length
    await expect(provider().complete(request)).rejects.toMatchObject({
      code: 'provider_error',
      status: 502,
      message: 'The model provider failed: 503: scripted failure 503',
    })
    expect(llm.requests.length - before).toBe(3)
    llm.script = () => ({ status: 404 })
    const again = llm.requests.length
    await expect(collect(provider().stream(request))).rejects.toMatchObject({ code: 'provider_error' })
    expect(llm.requests.length - again).toBe(1)
  })

  it('reports an unreachable provider as a provider error', async () => {
    const offline = openAiCompatibleProvider({
      baseUrl: 'http://127.0.0.1:9/v1',
      apiKey: null,
      defaultModel: 'x',
      attempts: 2,
      retryBaseMs: 1,
    })
    await expect(offline.complete(request)).rejects.toMatchObject({
      code: 'provider_error',
      message: 'The model provider failed: unreachable',
    })
  })
})

/** A real provider on loopback that fails with exactly this status, body and content type. */
async function failingProvider(status: number, body: string, contentType = 'application/json') {
  const server = http.createServer((_, res) => res.writeHead(status, { 'content-type': contentType }).end(body))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    provider: openAiCompatibleProvider({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
      apiKey: 'sk-live-operator-secret',
      defaultModel: 'x',
      attempts: 1,
    }),
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

describe("what a client sees of a provider's failure", () => {
  it('is the JSON error.message only: control characters, links and keys removed, at most 120 characters, the rest logged', async () => {
    const message =
      `Bad key sk-live-operator-secret for org org-7f3kq9x2m4vb8n1c5z6w0p2r\u0000\u001b[2J\u202e see ` +
      `https://provider.example/docs?key=abc ${'and more '.repeat(40)}`
    const failing = await failingProvider(400, JSON.stringify({ error: { message, param: 'internal-routing-detail' } }))
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const error = await failing.provider.complete(request).catch((e) => e)
      expect(error).toMatchObject({ code: 'provider_error', status: 502 })
      const passedOn = error.message.replace('The model provider failed: 400: ', '')
      expect(passedOn).toMatch(/^Bad key \[redacted\] for org \[redacted\] \[2J see \[link\] and more and more/)
      expect(passedOn).toHaveLength(120)
      expect(passedOn.endsWith('…')).toBe(true)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the client
      expect(error.message).not.toMatch(/sk-live|https?:|internal-routing-detail|[\u0000-\u001f\u202e]/)
      expect(log).toHaveBeenCalledWith(expect.stringContaining('internal-routing-detail'))
      expect(log).toHaveBeenCalledWith(expect.stringContaining('https://provider.example/docs'))
    } finally {
      log.mockRestore()
      await failing.close()
    }
  })

  it("is the status alone when the body is not JSON, such as a proxy's error page", async () => {
    const failing = await failingProvider(502, '<html><body>upstream 10.0.3.7:8080 refused; trace id 99ab</body></html>', 'text/html')
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      await expect(failing.provider.complete(request)).rejects.toMatchObject({
        code: 'provider_error',
        message: 'The model provider failed: 502',
      })
      expect(log).toHaveBeenCalledWith(expect.stringContaining('upstream 10.0.3.7:8080 refused'))
    } finally {
      log.mockRestore()
      await failing.close()
    }
  })

  it('is cleaned the same way when the error comes as a frame in the stream', async () => {
    const frame = `data: ${JSON.stringify({ error: { message: 'Overloaded, see https://status.example.com\n\u0007now' } })}\n\n`
    const failing = await failingProvider(200, frame, 'text/event-stream')
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      await expect(collect(failing.provider.stream(request))).rejects.toMatchObject({
        code: 'provider_error',
        message: 'The model provider failed: Overloaded, see [link] now',
      })
    } finally {
      log.mockRestore()
      await failing.close()
    }
  })
})
