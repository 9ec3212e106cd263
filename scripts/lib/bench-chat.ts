// The chat part of `npm run bench`: time to first token and total time of a streamed reply through
// POST /chat/{agentId}, against asking the same fake OpenAI-compatible server directly, one request at a
// time, interleaved. What the API adds is its key check, the conversation and message writes before the
// model is asked, and the relaying of each chunk as an event.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** A loopback server speaking the streaming Chat Completions API: 20 chunks at once, then usage. */
export async function startBenchModel(): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (let i = 0; i < 20; i++)
        res.write(`data: ${JSON.stringify({ model: 'bench', choices: [{ index: 0, delta: { content: `word${i} ` } }] })}\n\n`)
      res.write(`data: ${JSON.stringify({ model: 'bench', choices: [], usage: { prompt_tokens: 20, completion_tokens: 20 } })}\n\n`)
      res.end('data: [DONE]\n\n')
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

interface Timing {
  firstMs: number
  totalMs: number
}

/** Sends one request and times the first chunk holding `marker`, and the end of the body. */
async function timed(url: string, init: RequestInit, marker: string): Promise<Timing> {
  const start = performance.now()
  const res = await fetch(url, init)
  if (!res.ok || !res.body) throw new Error(`${url}: ${res.status} ${await res.text()}`)
  const reader = res.body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader()
  let firstMs = NaN
  let seen = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (Number.isNaN(firstMs)) {
      seen += value
      if (seen.includes(marker)) firstMs = performance.now() - start
    }
  }
  return { firstMs, totalMs: performance.now() - start }
}

export interface ChatFigures {
  requests: number
  direct: { ttft_p50_ms: number; ttft_p99_ms: number; total_p50_ms: number }
  api: { ttft_p50_ms: number; ttft_p99_ms: number; total_p50_ms: number }
  added_ttft_p50_ms: number
}

export async function benchChat(
  apiBase: string,
  key: string,
  agentId: string,
  modelBaseUrl: string,
  requests: number,
): Promise<ChatFigures> {
  const direct: Timing[] = []
  const api: Timing[] = []
  const body = JSON.stringify({
    model: 'bench',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'Hello' }],
  })
  for (let i = 0; i < requests + 10; i++) {
    const d = await timed(
      `${modelBaseUrl}/chat/completions`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      '"content"',
    )
    const a = await timed(
      `${apiBase}/chat/${agentId}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: `Hello ${i}`, stream: true }),
      },
      'event: message.delta',
    )
    // The first ten warm up connections and plans.
    if (i >= 10) {
      direct.push(d)
      api.push(a)
    }
  }
  const at = (values: number[], p: number) => {
    const s = [...values].sort((x, y) => x - y)
    return Math.round(s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] * 100) / 100
  }
  const summary = (t: Timing[]) => ({
    ttft_p50_ms: at(
      t.map((x) => x.firstMs),
      0.5,
    ),
    ttft_p99_ms: at(
      t.map((x) => x.firstMs),
      0.99,
    ),
    total_p50_ms: at(
      t.map((x) => x.totalMs),
      0.5,
    ),
  })
  const d = summary(direct)
  const a = summary(api)
  return { requests, direct: d, api: a, added_ttft_p50_ms: Math.round((a.ttft_p50_ms - d.ttft_p50_ms) * 100) / 100 }
}
