import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeEmbeddingsOptions {
  /** The width of every vector (default 384). */
  dimensions?: number
  /** The model the answers name (default: the model asked for). */
  model?: string
}

export interface FakeEmbeddings {
  /** The base URL to set as EMBEDDINGS_BASE_URL (ends in /v1). */
  baseUrl: string
  dimensions: number
  /** Every request received: its JSON body and headers. */
  requests: { body: any; headers: http.IncomingHttpHeaders }[]
  /** Inputs embedded so far (answered requests only). */
  inputs: number
  /** Fails the next `n` requests with `status` (500 by default); a 429 carries Retry-After: `retryAfterSeconds`. */
  failNext(n: number, status?: number, retryAfterSeconds?: number): void
  /** Waits this long before each answer (default 0), so that a test can watch work in flight. */
  delayMs: number
  /** Answers with numbers even when base64 is asked for, as some servers do (default false). */
  numbersOnly: boolean
  /** Answers with this model instead (default: the model asked for, or the one given at start). */
  model: string | null
  /** The vector the fake gives `text`, normalised; the same as it would answer. */
  vectorOf(text: string): Float32Array
  close(): Promise<void>
}

/** The words a text is made of for the fake: lower-cased, without punctuation, crudely stemmed. */
export function stems(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((word) =>
    word.length > 4 ? word.replace(/(?:ing|ed|es|s)$/, '') : word.length > 3 ? word.replace(/s$/, '') : word,
  )
}

/** FNV-1a, 32 bits: a stable hash of a word, so that a word always lands on the same coordinates. */
function hash(word: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed
  for (let i = 0; i < word.length; i++) {
    h ^= word.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The fake's embedding: each word stem adds ±1 at three coordinates its hash picks, and the sum is
 * normalised, so texts sharing words point the same way and the same text always gives the same vector.
 */
export function fakeVector(text: string, dimensions = 384): Float32Array {
  const v = new Float32Array(dimensions)
  for (const stem of stems(text)) {
    for (let k = 0; k < 3; k++) {
      const h = hash(stem, k)
      v[h % dimensions] += h & 0x80000000 ? -1 : 1
    }
  }
  let sum = 0
  for (const x of v) sum += x * x
  const length = Math.sqrt(sum)
  if (length > 0) for (let i = 0; i < v.length; i++) v[i] /= length
  return v
}

/**
 * A real HTTP server on loopback speaking OpenAI's embeddings API (`POST /v1/embeddings`, input a string
 * or a list of them, `dimensions`, `encoding_format` float or base64), deterministic (fakeVector), reporting usage as words + inputs tokens; it can be told
 * to fail the next requests, with 500s or with 429s and Retry-After, and to answer slowly.
 */
export async function startFakeEmbeddings(options: FakeEmbeddingsOptions = {}): Promise<FakeEmbeddings> {
  let failures: { left: number; status: number; retryAfterSeconds: number } = { left: 0, status: 500, retryAfterSeconds: 0 }
  const fake: FakeEmbeddings = {
    baseUrl: '',
    dimensions: options.dimensions ?? 384,
    requests: [],
    inputs: 0,
    delayMs: 0,
    numbersOnly: false,
    model: options.model ?? null,
    failNext(n, status = 500, retryAfterSeconds = 0) {
      failures = { left: n, status, retryAfterSeconds }
    },
    vectorOf: (text) => fakeVector(text, fake.dimensions),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const answer = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return answer(res, 404, { error: { message: 'Not found' } })
      let body: any
      try {
        body = JSON.parse(Buffer.concat(chunks).toString())
      } catch {
        return answer(res, 400, { error: { message: 'The body is not JSON', type: 'invalid_request_error' } })
      }
      fake.requests.push({ body, headers: req.headers })
      if (fake.delayMs) await new Promise((resolve) => setTimeout(resolve, fake.delayMs))
      if (failures.left > 0) {
        failures.left--
        const headers: Record<string, string> = failures.status === 429 ? { 'retry-after': String(failures.retryAfterSeconds) } : {}
        return answer(res, failures.status, { error: { message: `scripted failure ${failures.status}`, type: 'server_error' } }, headers)
      }
      const inputs: unknown[] = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : []
      if (inputs.length === 0 || !inputs.every((i) => typeof i === 'string')) {
        return answer(res, 400, { error: { message: "'input' must be a string or a list of strings", type: 'invalid_request_error' } })
      }
      const texts = inputs as string[]
      // OpenAI's two encodings: numbers, or float32 little-endian in base64 (what its SDK asks for).
      const encode = (v: Float32Array) =>
        body.encoding_format === 'base64' && !fake.numbersOnly
          ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
          : Array.from(v)
      fake.inputs += texts.length
      const tokens = texts.reduce((sum, t) => sum + stems(t).length + 1, 0)
      // As OpenAI's text-embedding-3 models do, `dimensions` asks for shorter vectors.
      const width = Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : fake.dimensions
      answer(res, 200, {
        object: 'list',
        data: texts.map((text, index) => ({ object: 'embedding', index, embedding: encode(fakeVector(text, width)) })),
        model: fake.model ?? body.model ?? 'fake-embeddings',
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  return fake
}
