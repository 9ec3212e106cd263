import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startApi, type TestApi } from './api.ts'

/** How the fake model answers one request. */
export interface Script {
  /** The reply, sent in these pieces when streaming (default: the words of `reply`). */
  reply?: string
  chunks?: string[]
  /** Report usage (default true): in the JSON answer, or as the last chunk when the client asks for it. */
  usage?: { prompt_tokens: number; completion_tokens: number } | false
  /** End the stream with `data: [DONE]` (default true). */
  done?: boolean
  /** After this many chunks, send an error frame and end the stream. */
  errorAfterChunks?: number
  /** Answer with this status (and an OpenAI-style error body) instead. */
  status?: number
  chunkDelayMs?: number
  model?: string
}

export interface FakeLlm {
  baseUrl: string
  /** Every request received, with its JSON body. */
  requests: { body: any; headers: http.IncomingHttpHeaders }[]
  script: (body: any, n: number) => Script
  close(): Promise<void>
}

/**
 * A real HTTP server on loopback speaking OpenAI's Chat Completions API, blocking and streaming, that
 * answers as the test scripts it: replies, usage or none, `[DONE]` or none, error frames, error statuses,
 * slow chunks.
 */
export async function startFakeLlm(): Promise<FakeLlm> {
  const requests: FakeLlm['requests'] = []
  const fake: FakeLlm = {
    baseUrl: '',
    requests,
    script: () => ({ reply: 'Hello from the fake model.' }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }))
        return
      }
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}')
      requests.push({ body, headers: req.headers })
      const s = fake.script(body, requests.length)
      const model = s.model ?? body.model
      if (s.status) {
        res
          .writeHead(s.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: `scripted failure ${s.status}`, type: 'server_error' } }))
        return
      }
      const reply = s.reply ?? ''
      const usage = s.usage === false ? undefined : { ...(s.usage ?? { prompt_tokens: 11, completion_tokens: 7 }), total_tokens: 0 }
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            model,
            choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
            ...(usage ? { usage } : {}),
          }),
        )
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`)
      const frame = (delta: Record<string, unknown>, finish: string | null = null) => ({
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })
      send(frame({ role: 'assistant', content: '' }))
      const pieces = s.chunks ?? reply.match(/\S+\s*/g) ?? []
      for (let i = 0; i < pieces.length; i++) {
        if (res.destroyed) return
        if (s.errorAfterChunks === i) {
          send({ error: { message: 'scripted mid-stream failure', type: 'server_error' } })
          res.end()
          return
        }
        if (s.chunkDelayMs) await new Promise((r) => setTimeout(r, s.chunkDelayMs))
        send(frame({ content: pieces[i] }))
      }
      send(frame({}, 'stop'))
      if (usage && body.stream_options?.include_usage)
        send({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', model, choices: [], usage })
      if (s.done !== false) send('[DONE]')
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  return fake
}

/** The events of a Server-Sent Events body: name, parsed data and id, in order. */
export function parseEvents(text: string): { event: string; data: any; id: string | null }[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() && !block.startsWith(':'))
    .map((block) => {
      const lines = block.split('\n').filter((l) => !l.startsWith(':'))
      const field = (name: string) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).replace(/^ /, ''))
      const data = field('data').join('\n')
      return { event: field('event')[0] ?? 'message', data: data ? JSON.parse(data) : null, id: field('id')[0] ?? null }
    })
}

/** A streamed chat reply being read: the text so far, and reading on. */
export interface StreamedReply {
  text: string
  /** Reads until `until` holds of the text so far; returns the text. */
  readUntil(until: (text: string) => boolean): Promise<string>
  /** Reads to the end of the stream; returns the whole text. */
  readToEnd(): Promise<string>
}

/**
 * Starts a streamed reply from the chat route of the API at `base` and reads until its first delta has
 * arrived, so the generation is running when it returns.
 */
export async function startStreamedReply(
  base: string,
  agentId: string,
  key: string,
  message: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<StreamedReply> {
  const res = await fetch(`${base}/chat/${agentId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ message, stream: true }),
    signal: init.signal,
  })
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  const reply: StreamedReply = {
    text: '',
    async readUntil(until) {
      while (!until(reply.text)) {
        const { done, value } = await reader.read()
        if (done) throw new Error(`the stream ended before the expected text arrived: ${reply.text}`)
        reply.text += value
      }
      return reply.text
    },
    async readToEnd() {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return reply.text
        reply.text += value
      }
    },
  }
  await reply.readUntil((text) => text.includes('message.delta'))
  return reply
}

/** An API in this process whose model provider is a fake model of its own, started first. */
export async function startApiWithFakeModel(): Promise<{ api: TestApi; llm: FakeLlm }> {
  const llm = await startFakeLlm()
  process.env.LLM_BASE_URL = llm.baseUrl
  process.env.LLM_MODEL = 'gpt-4o-mini'
  return { api: await startApi(), llm }
}
