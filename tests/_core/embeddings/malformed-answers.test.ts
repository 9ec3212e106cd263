// An embeddings server answering 200 with something that is not a usable answer: each is refused with a
// message saying what was wrong, rather than storing vectors that do not belong to the texts.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EmbeddingsError, openAiEmbeddingsProvider } from '../../../functions/_core/embeddings/openai-compatible.ts'

let server: http.Server
let baseUrl: string
/** What the server answers next, with status 200 unless told. */
let next: { status?: number; body: unknown; headers?: Record<string, string> }[] = []
let requests = 0

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      requests++
      const { status = 200, body, headers = {} } = next.shift() ?? { body: {} }
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const provider = () => openAiEmbeddingsProvider({ baseUrl, apiKey: null, model: 'm', retryBaseMs: 5 })

/** The error embedding `inputs` ends with, when the server answers `body`. */
async function refusal(body: unknown, inputs = ['a', 'b']): Promise<EmbeddingsError> {
  next = [{ body }]
  const original = console.error
  console.error = () => {}
  try {
    await provider().embed(inputs)
  } catch (error) {
    expect(error).toBeInstanceOf(EmbeddingsError)
    return error as EmbeddingsError
  } finally {
    console.error = original
  }
  throw new Error('the answer was accepted')
}

describe('an embeddings answer that cannot be used', () => {
  it('is refused when it holds no list, or another number of embeddings than inputs', async () => {
    expect((await refusal({ object: 'list' })).message).toBe('The embeddings provider failed: it answered no embeddings for 2 inputs')
    expect((await refusal({ data: [{ embedding: [1, 0] }] })).message).toBe(
      'The embeddings provider failed: it answered 1 embeddings for 2 inputs',
    )
  })

  it('is refused when an embedding is not numbers, or base64 of a whole number of floats', async () => {
    const notVector = 'The embeddings provider failed: an embedding was not a list of numbers'
    expect((await refusal({ data: [{ embedding: [1, 0] }, { embedding: ['x', 'y'] }] })).message).toBe(notVector)
    expect((await refusal({ data: [{ embedding: [1, 0] }, { embedding: btoa('abcdef') }] })).message).toBe(notVector)
    expect((await refusal({ data: [{ embedding: [1, 0] }, { embedding: '%%%' }] })).message).toBe(notVector)
  })

  it('is refused when its indexes do not match the inputs one to one, or its vectors differ in length', async () => {
    const mismatch = 'The embeddings provider failed: the embeddings did not match the inputs'
    expect(
      (
        await refusal({
          data: [
            { index: 0, embedding: [1, 0] },
            { index: 0, embedding: [0, 1] },
          ],
        })
      ).message,
    ).toBe(mismatch)
    expect(
      (
        await refusal({
          data: [
            { index: 0, embedding: [1, 0] },
            { index: 2, embedding: [0, 1] },
          ],
        })
      ).message,
    ).toBe(mismatch)
    expect((await refusal({ data: [{ embedding: [1, 0] }, { embedding: [0, 1, 0] }] })).message).toBe(
      'The embeddings provider failed: the embeddings differed in length',
    )
  })

  it('is refused when it is not JSON at all', async () => {
    const error = await refusal('<html>ok</html>')
    expect([error.message, error.status]).toEqual(['The embeddings provider failed: the answer was not JSON', 200])
  })
})

describe('a usable embeddings answer', () => {
  it('is placed by its indexes, takes total_tokens when prompt_tokens is missing, and keeps the asked model when it names none', async () => {
    next = [
      {
        body: {
          data: [
            { index: 1, embedding: [0, 2] },
            { index: 0, embedding: [3, 0] },
          ],
          usage: { total_tokens: 7 },
        },
      },
    ]
    const result = await provider().embed(['a', 'b'])
    expect(result.vectors.map((v) => Array.from(v))).toEqual([
      [1, 0],
      [0, 1],
    ])
    expect(result).toMatchObject({ model: 'm', promptTokens: 7, estimated: false })
  })

  it('waits as long as a Retry-After date says before asking again', async () => {
    requests = 0
    const at = new Date(Date.now() + 1000).toUTCString()
    next = [
      { status: 429, body: { error: { message: 'slow down' } }, headers: { 'retry-after': at } },
      { body: { data: [{ embedding: [1, 0] }] } },
    ]
    const original = console.error
    console.error = () => {}
    try {
      const started = Date.now()
      const result = await provider().embed(['a'])
      // An HTTP date has whole seconds: the wait is what is left of the second it names.
      expect(Date.now() - started).toBeGreaterThanOrEqual(Date.parse(at) - started - 50)
      expect(Array.from(result.vectors[0])).toEqual([1, 0])
      expect(requests).toBe(2)
    } finally {
      console.error = original
    }
  })
})
