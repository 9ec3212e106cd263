// A client of OpenAI's embeddings API (`POST {base}/embeddings`), which OpenAI, Azure's compatible
// endpoint, Ollama, vLLM, LM Studio, text-embeddings-inference and most hosted models speak. Inputs go in
// requests of at most `batchSize` (96: under every such server's limit per request); a request that gets a
// 429, a 5xx or no answer is tried again after a growing wait, or after the Retry-After the server asked for.
// What a server says when it fails is cut down to one clean line (_core/llm/provider-message.ts) because it
// ends up on the item, where a tenant reads it; everything goes to the server's log.
import { clientSafeMessage, messageInBody } from '../llm/provider-message.ts'
import type { Embeddings, EmbeddingsProvider } from './types.ts'
import { normalise, vectorFromBytes } from './vectors.ts'

export interface OpenAiEmbeddingsOptions {
  baseUrl: string
  apiKey: string | null
  model: string
  dimensions?: number | null
  /** Inputs per request (default 96). */
  batchSize?: number
  /** Tries of one request on 429/5xx/network failures (default 4), waiting `retryBaseMs` × 2ⁿ (± 20 %) between. */
  attempts?: number
  retryBaseMs?: number
  /** The longest Retry-After honoured (default 60 s); a server asking for longer gets the failure back. */
  maxRetryAfterMs?: number
  timeoutMs?: number
}

/** An embeddings request that failed for good: `status` is the server's, or null when it never answered. */
export class EmbeddingsError extends Error {
  override name = 'EmbeddingsError'
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message)
  }
}

interface EmbeddingsAnswer {
  data?: { index?: number; embedding?: unknown }[]
  model?: string
  usage?: { prompt_tokens?: number; total_tokens?: number }
}

export function openAiEmbeddingsProvider(options: OpenAiEmbeddingsOptions): EmbeddingsProvider {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 96, 2048))
  const attempts = options.attempts ?? 4
  const retryBaseMs = options.retryBaseMs ?? 500
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000
  const dimensions = options.dimensions ?? null
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' }
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`

  const failed = (what: string, status: number | null, everything: string) => {
    console.error(`[embeddings] the embeddings provider failed (${what}): ${everything.slice(0, 2000)}`)
    return new EmbeddingsError(`The embeddings provider failed: ${what}`, status)
  }

  async function post(inputs: string[], signal?: AbortSignal): Promise<EmbeddingsAnswer> {
    // base64 (float32 little-endian) is a quarter of the size of the numbers written out, and what OpenAI's
    // own SDK asks for, so compatible servers answer it; one answering with numbers anyway is read as well.
    const body = JSON.stringify({ model: options.model, input: inputs, encoding_format: 'base64', ...(dimensions ? { dimensions } : {}) })
    for (let attempt = 1; ; attempt++) {
      let failure: EmbeddingsError
      let retryAfterMs: number | null = null
      try {
        const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000)
        const response = await fetch(url, { method: 'POST', headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout })
        const text = await response.text()
        if (response.ok) {
          try {
            return JSON.parse(text) as EmbeddingsAnswer
          } catch {
            throw failed('the answer was not JSON', response.status, text)
          }
        }
        const message = messageInBody(text)
        const said = message === null ? '' : `: ${clientSafeMessage(message, options.apiKey)}`
        failure = failed(`status ${response.status}${said}`, response.status, text)
        if (response.status !== 429 && response.status < 500) throw failure
        retryAfterMs = retryAfter(response.headers.get('retry-after'))
      } catch (error) {
        if (error instanceof EmbeddingsError || signal?.aborted) throw error
        // A network error names the provider's address, which is the operator's business, not the tenant's.
        const what = (error as Error).name === 'TimeoutError' ? 'no answer in time' : 'unreachable'
        failure = failed(what, null, String((error as Error).cause ?? error))
      }
      if (attempt >= attempts || (retryAfterMs !== null && retryAfterMs > maxRetryAfterMs)) throw failure
      await sleep(retryAfterMs ?? retryBaseMs * 2 ** (attempt - 1) * (0.8 + 0.4 * Math.random()), signal)
    }
  }

  async function embedBatch(inputs: string[], signal?: AbortSignal): Promise<Embeddings> {
    const answer = await post(inputs, signal)
    const data = answer.data
    if (!Array.isArray(data) || data.length !== inputs.length) {
      throw failed(
        `it answered ${Array.isArray(data) ? data.length : 'no'} embeddings for ${inputs.length} inputs`,
        null,
        JSON.stringify(answer).slice(0, 500),
      )
    }
    const vectors: Float32Array[] = new Array(inputs.length)
    for (const [position, entry] of data.entries()) {
      const index = typeof entry.index === 'number' ? entry.index : position
      const embedding = typeof entry.embedding === 'string' ? fromBase64(entry.embedding) : entry.embedding
      if (!isVector(embedding)) throw failed('an embedding was not a list of numbers', null, JSON.stringify(entry).slice(0, 500))
      if (index < 0 || index >= inputs.length || vectors[index])
        throw failed('the embeddings did not match the inputs', null, `index ${index}`)
      vectors[index] = normalise(embedding)
    }
    const width = vectors[0].length
    if (vectors.some((v) => v.length !== width)) throw failed('the embeddings differed in length', null, '')
    const reported = answer.usage?.prompt_tokens ?? answer.usage?.total_tokens
    const estimated = typeof reported !== 'number'
    return {
      vectors,
      model: answer.model ?? options.model,
      promptTokens: estimated ? inputs.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0) : reported,
      estimated,
    }
  }

  return {
    model: options.model,
    dimensions,
    async embed(texts, signal) {
      const all: Embeddings = { vectors: [], model: options.model, promptTokens: 0, estimated: false }
      for (let from = 0; from < texts.length; from += batchSize) {
        const batch = await embedBatch(texts.slice(from, from + batchSize), signal)
        all.vectors.push(...batch.vectors)
        all.model = batch.model
        all.promptTokens += batch.promptTokens
        all.estimated ||= batch.estimated
      }
      return all
    },
  }
}

function isVector(x: unknown): x is ArrayLike<number> {
  if (x instanceof Float32Array) return x.length > 0 && x.every(Number.isFinite)
  return Array.isArray(x) && x.length > 0 && x.every((n) => typeof n === 'number' && Number.isFinite(n))
}

/** An embedding sent as base64 float32 little-endian; null when it is not one. */
function fromBase64(text: string): Float32Array | null {
  let binary: string
  try {
    binary = atob(text)
  } catch {
    return null
  }
  if (binary.length % 4 !== 0) return null
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return vectorFromBytes(bytes)
}

/** A Retry-After header's wait in milliseconds (seconds or an HTTP date), or null when there is none to read. */
function retryAfter(header: string | null): number | null {
  if (header === null || header.trim() === '') return null
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now())
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop)
      resolve()
    }, ms)
    const stop = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', stop, { once: true })
  })
}
