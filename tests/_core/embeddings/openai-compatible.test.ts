import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EmbeddingsError, openAiEmbeddingsProvider } from '../../../functions/_core/embeddings/openai-compatible.ts'
import { embeddingsFromEnv } from '../../../functions/_core/embeddings/provider.ts'
import { normalise, vectorFromBytes, vectorToBytes } from '../../../functions/_core/embeddings/vectors.ts'
import { type FakeEmbeddings, startFakeEmbeddings } from '../../harness/fake-embeddings.ts'

let fake: FakeEmbeddings
beforeAll(async () => {
  fake = await startFakeEmbeddings()
})
afterAll(() => fake.close())
beforeEach(() => {
  fake.requests.length = 0
  fake.failNext(0)
  fake.delayMs = 0
  fake.model = null
  fake.numbersOnly = false
})

const provider = (extra: Partial<Parameters<typeof openAiEmbeddingsProvider>[0]> = {}) =>
  openAiEmbeddingsProvider({ baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'text-embedding-3-small', retryBaseMs: 5, ...extra })

const length = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))

describe('the embeddings provider', () => {
  it('embeds texts in order as unit vectors, sending the key and model, with the usage reported', async () => {
    const result = await provider().embed(['Cats chase mice.', 'Dogs bark at night.'])
    expect(result.model).toBe('text-embedding-3-small')
    expect(result.promptTokens).toBe(3 + 1 + (4 + 1)) // the fake counts words and one per input
    expect(result.estimated).toBe(false)
    expect(result.vectors.map((v) => Array.from(v))).toEqual([
      Array.from(fake.vectorOf('Cats chase mice.')),
      Array.from(fake.vectorOf('Dogs bark at night.')),
    ])
    for (const v of result.vectors) expect(length(v)).toBeCloseTo(1, 5)
    expect(fake.requests[0].headers.authorization).toBe('Bearer sk-test')
    expect(fake.requests[0].body).toMatchObject({ model: 'text-embedding-3-small', input: ['Cats chase mice.', 'Dogs bark at night.'] })
  })

  it('asks for base64 and reads a server answering with numbers all the same', async () => {
    const asked = await provider().embed(['same text'])
    expect(fake.requests[0].body.encoding_format).toBe('base64')
    fake.numbersOnly = true
    const numbers = await provider().embed(['same text'])
    expect(Array.from(numbers.vectors[0])).toEqual(Array.from(asked.vectors[0]))
    expect(Array.from(asked.vectors[0])).toEqual(Array.from(fake.vectorOf('same text')))
  })

  it('sends at most 96 inputs a request', async () => {
    const texts = Array.from({ length: 200 }, (_, i) => `text number ${i}`)
    const result = await provider().embed(texts)
    expect(fake.requests.map((r) => r.body.input.length)).toEqual([96, 96, 8])
    expect(result.vectors).toHaveLength(200)
    expect(Array.from(result.vectors[150])).toEqual(Array.from(fake.vectorOf('text number 150')))
  })

  it('asks for the configured dimensions', async () => {
    const result = await provider({ dimensions: 64 }).embed(['short vectors'])
    expect(fake.requests[0].body.dimensions).toBe(64)
    expect(result.vectors[0]).toHaveLength(64)
  })

  it('tries again after 500s and succeeds within its attempts', async () => {
    fake.failNext(2, 500)
    const result = await provider().embed(['after two failures'])
    expect(fake.requests).toHaveLength(3)
    expect(result.vectors).toHaveLength(1)
  })

  it('waits the Retry-After a 429 asks for before trying again', async () => {
    fake.failNext(1, 429, 1)
    const started = performance.now()
    await provider().embed(['rate limited'])
    expect(fake.requests).toHaveLength(2)
    expect(performance.now() - started).toBeGreaterThanOrEqual(950)
  })

  it('gives up at once when a 429 asks for a longer wait than it honours', async () => {
    fake.failNext(1, 429, 120)
    await expect(provider().embed(['too long a wait'])).rejects.toThrow('The embeddings provider failed: status 429: scripted failure 429')
    expect(fake.requests).toHaveLength(1)
  })

  it('fails after its attempts with the status, and does not retry a 400', async () => {
    fake.failNext(10, 500)
    const error = await provider({ attempts: 3 })
      .embed(['always failing'])
      .catch((e) => e)
    expect(error).toBeInstanceOf(EmbeddingsError)
    expect(error.status).toBe(500)
    expect(fake.requests).toHaveLength(3)
    fake.requests.length = 0
    fake.failNext(10, 400)
    await expect(provider().embed(['bad request'])).rejects.toMatchObject({ status: 400 })
    expect(fake.requests).toHaveLength(1)
  })

  it('fails as unreachable, naming no address, when nothing listens', async () => {
    const error = await openAiEmbeddingsProvider({
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: null,
      model: 'm',
      attempts: 2,
      retryBaseMs: 1,
    })
      .embed(['x'])
      .catch((e) => e)
    expect(error).toMatchObject({ message: 'The embeddings provider failed: unreachable', status: null })
  })

  it('stops when its signal is aborted', async () => {
    fake.delayMs = 2000
    const controller = new AbortController()
    const pending = provider().embed(['slow'], controller.signal)
    setTimeout(() => controller.abort(new Error('stopped')), 50)
    await expect(pending).rejects.toThrow('stopped')
  })

  it('names the model that answered', async () => {
    fake.model = 'text-embedding-3-small-2024'
    expect((await provider().embed(['x'])).model).toBe('text-embedding-3-small-2024')
  })
})

describe('the embeddings configuration', () => {
  const env = (values: Record<string, string>) => (name: string) => values[name]

  it('is none without a base URL', () => {
    expect(embeddingsFromEnv(env({ EMBEDDINGS_MODEL: 'x' }))).toBeNull()
  })

  it('takes the model and dimensions from the environment', () => {
    const p = embeddingsFromEnv(
      env({ EMBEDDINGS_BASE_URL: fake.baseUrl, EMBEDDINGS_MODEL: 'text-embedding-3-large', EMBEDDINGS_DIMENSIONS: '256' }),
    )
    expect(p).toMatchObject({ model: 'text-embedding-3-large', dimensions: 256 })
    expect(embeddingsFromEnv(env({ EMBEDDINGS_BASE_URL: fake.baseUrl }))).toMatchObject({
      model: 'text-embedding-3-small',
      dimensions: null,
    })
  })

  it('refuses dimensions that are not a whole number from 1 to 8192', () => {
    expect(() => embeddingsFromEnv(env({ EMBEDDINGS_BASE_URL: fake.baseUrl, EMBEDDINGS_DIMENSIONS: 'wide' }))).toThrow(
      'EMBEDDINGS_DIMENSIONS',
    )
    expect(() => embeddingsFromEnv(env({ EMBEDDINGS_BASE_URL: fake.baseUrl, EMBEDDINGS_DIMENSIONS: '0' }))).toThrow('EMBEDDINGS_DIMENSIONS')
  })
})

describe('stored vectors', () => {
  it('round-trip through float32 little-endian bytes', () => {
    const v = normalise([3, 4])
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8)])
    const bytes = vectorToBytes(v)
    expect(Array.from(bytes.slice(0, 4))).toEqual([0x9a, 0x99, 0x19, 0x3f]) // 0.6f, least significant byte first
    expect(Array.from(vectorFromBytes(bytes))).toEqual(Array.from(v))
    expect(() => vectorFromBytes(new Uint8Array(5))).toThrow(RangeError)
  })
})
