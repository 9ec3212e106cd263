// A provider for any server speaking OpenAI's Chat Completions API (OpenAI, Ollama, vLLM, LM Studio,
// llama.cpp …), blocking and streaming. Tolerant of what such servers do differently: usage missing (it is
// then estimated, and marked so), a stream ending without `[DONE]`, an error sent as a frame mid-stream.
// 429s, 5xx and network failures are retried a few times with backoff, before anything has been streamed;
// after that, or past the retries, the caller gets `502 provider_error` with the provider's own message,
// cleaned and cut short (provider-message.ts); what the provider said in full goes to the server's log.
import { ApiError } from '../errors.ts'
import { clientSafeMessage, messageInBody } from './provider-message.ts'
import type { ChatProvider, ChatRequest, Completion, StreamEvent, Usage } from './types.ts'
import { estimateTokens } from './tokens.ts'

export interface OpenAiCompatibleOptions {
  baseUrl: string
  apiKey: string | null
  defaultModel: string
  /** Attempts for 429/5xx/network failures (default 3), waiting `retryBaseMs` × 2ⁿ (± jitter) between. */
  attempts?: number
  retryBaseMs?: number
  timeoutMs?: number
}

interface ChoiceChunk {
  choices?: { delta?: { content?: string | null }; message?: { content?: string | null } }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
  model?: string
  error?: { message?: string } | string
}

/** A provider's failure; `providerStatus` is the HTTP status it answered with, when it answered one. */
export class ProviderError extends ApiError {
  constructor(
    message: string,
    readonly providerStatus: number | null = null,
  ) {
    super('provider_error', `The model provider failed: ${message}`)
  }
}

const providerError = (message: string, status: number | null = null) => new ProviderError(message, status)

/** The request's `response_format`, in the Chat Completions API's words. */
function responseFormatOf(format: ChatRequest['responseFormat']) {
  if (!format) return {}
  if (format.type === 'json_object') return { response_format: { type: 'json_object' } }
  return { response_format: { type: 'json_schema', json_schema: { name: format.name, schema: format.schema } } }
}

export function openAiCompatibleProvider(options: OpenAiCompatibleOptions): ChatProvider {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`
  const attempts = options.attempts ?? 3
  const retryBaseMs = options.retryBaseMs ?? 250

  /** The provider's own message, cleaned and short, for the client; everything it said goes to the log. */
  function passedOn(situation: string, message: string | null, everything: string): string | null {
    console.error(`[llm] the model provider failed (${situation}): ${everything.slice(0, 2000)}`)
    return message === null ? null : clientSafeMessage(message, options.apiKey)
  }

  async function errorMessage(response: Response): Promise<string> {
    const body = await firstBytes(response, 64 * 1024).catch(() => '')
    const message = passedOn(`status ${response.status}`, messageInBody(body), body)
    return message === null ? String(response.status) : `${response.status}: ${message}`
  }

  function errorInAnswer(error: NonNullable<ChoiceChunk['error']>): ApiError {
    const message = typeof error === 'string' ? error : typeof error.message === 'string' ? error.message : null
    return providerError(passedOn('an error in its answer', message, JSON.stringify(error)) ?? 'unknown error')
  }

  async function post(request: ChatRequest, stream: boolean, signal?: AbortSignal): Promise<Response> {
    const body = JSON.stringify({
      model: request.model,
      messages: request.messages,
      ...(request.temperature != null ? { temperature: request.temperature } : {}),
      ...(request.maxTokens != null ? { max_tokens: request.maxTokens } : {}),
      ...responseFormatOf(request.responseFormat),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    })
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    }
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`
    for (let attempt = 1; ; attempt++) {
      let response: Response | null = null
      let failure: string
      try {
        const timeout = AbortSignal.timeout(options.timeoutMs ?? 120_000)
        response = await fetch(url, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
        if (response.ok) return response
        failure = await errorMessage(response)
        if (response.status !== 429 && response.status < 500) throw providerError(failure, response.status)
      } catch (error) {
        if (error instanceof ApiError || signal?.aborted) throw error
        failure = (error as Error).name === 'TimeoutError' ? 'no answer in time' : 'unreachable'
        // Network errors name the provider's address, which is the operator's business, not the client's.
        passedOn(failure, null, String((error as Error).cause ?? error))
      }
      if (attempt >= attempts) throw providerError(failure, response?.status ?? null)
      const retryAfter = Number(response?.headers.get('retry-after'))
      const wait = retryAfter > 0 && retryAfter <= 5 ? retryAfter * 1000 : retryBaseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random())
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }

  function usageFrom(reported: ChoiceChunk['usage'], request: ChatRequest, text: string): Usage {
    if (reported && typeof reported.prompt_tokens === 'number' && typeof reported.completion_tokens === 'number') {
      return { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens, estimated: false }
    }
    return {
      promptTokens: estimateTokens(request.messages.map((m) => m.content).join('\n')),
      completionTokens: estimateTokens(text),
      estimated: true,
    }
  }

  return {
    name: 'openai-compatible',
    defaultModel: options.defaultModel,

    async complete(request, signal): Promise<Completion> {
      const response = await post(request, false, signal)
      let json: ChoiceChunk
      try {
        json = (await response.json()) as ChoiceChunk
      } catch {
        throw providerError('the answer was not JSON')
      }
      if (json.error) throw errorInAnswer(json.error)
      const text = json.choices?.[0]?.message?.content ?? ''
      return { text, model: json.model ?? request.model, usage: usageFrom(json.usage, request, text) }
    },

    async *stream(request, signal): AsyncIterable<StreamEvent> {
      const response = await post(request, true, signal)
      if (!response.body) throw providerError('the answer had no body')
      let text = ''
      let model = request.model
      let usage: ChoiceChunk['usage'] = null
      for await (const data of serverSentData(response.body)) {
        if (data === '[DONE]') break
        let chunk: ChoiceChunk
        try {
          chunk = JSON.parse(data) as ChoiceChunk
        } catch {
          throw providerError('the stream held a frame that is not JSON')
        }
        if (chunk.error) throw errorInAnswer(chunk.error)
        if (chunk.model) model = chunk.model
        if (chunk.usage) usage = chunk.usage
        const delta = chunk.choices?.[0]?.delta?.content
        if (delta) {
          text += delta
          yield { type: 'delta', text: delta }
        }
      }
      yield { type: 'done', model, usage: usageFrom(usage, request, text) }
    },
  }
}

/** The `data` of each server-sent event, events being separated by a blank line. */
async function* serverSentData(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  // Decoded as it is read rather than piped through a TextDecoderStream: a stream pipe costs more CPU than
  // a short answer's whole parsing.
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) {
        buffer += decoder.decode()
        break
      }
      buffer += decoder.decode(value, { stream: true })
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline).replace(/\r$/, '')
        buffer = buffer.slice(newline + 1)
        if (line === '') {
          if (data.length) yield data.join('\n')
          data = []
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''))
        }
      }
    }
    if (buffer.startsWith('data:')) data.push(buffer.slice(5).replace(/^ /, ''))
    if (data.length) yield data.join('\n')
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** The start of a body, as text: an error page can be any size, and only its start is ever looked at. */
async function firstBytes(response: Response, limit: number): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const parts: Uint8Array[] = []
  let size = 0
  try {
    while (size < limit) {
      const { done, value } = await reader.read()
      if (done) break
      parts.push(value)
      size += value.length
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  const all = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    all.set(part, at)
    at += part.length
  }
  return new TextDecoder().decode(all.subarray(0, limit))
}
