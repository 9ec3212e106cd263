import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { app } from '../../functions/app.ts'
import { maxRequestHeaderBytes } from '../../functions/_core/postgrest/parse.ts'
import { nodeWebSockets } from '../../scripts/lib/node-websocket.ts'
import { observe } from './observed.ts'

export interface ApiResponse {
  status: number
  headers: Headers
  body: any
}

/** One answer as the harness noted it: `path` is the URL's whole path as sent, without the query. */
export interface ObservedAnswer {
  method: string
  path: string
  status: number
}

export interface CallOptions {
  key?: string
  body?: unknown
  /** Sent as is, without JSON encoding or a content type. */
  rawBody?: string
  headers?: Record<string, string>
}

export interface TestApi {
  /**
   * The public base URL, as users call it: http://127.0.0.1:<port>/functions/v1/api/v1. Paths starting with
   * /rest/v1/ go to the PostgREST surface beside it (…/functions/v1/api/rest/v1/…).
   */
  base: string
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>
  close(): Promise<void>
}

/** Serves the app on a real HTTP server on loopback, as the dev server does. */
export async function startApi(): Promise<TestApi> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        hostname: '127.0.0.1',
        port: 0,
        serverOptions: { maxHeaderSize: maxRequestHeaderBytes },
        websocket: nodeWebSockets(),
      },
      () => resolve(s),
    )
  })
  const { port } = server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}/functions/v1/api/v1`
  return {
    base,
    call: (method, path, options) => callApi(base, method, path, options),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

export async function callApi(base: string, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined = options.rawBody
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const url = path.startsWith('/rest/v1/') ? base.replace(/\/v1$/, '') + path : base + path
  const res = await fetch(url, { method, headers, body })
  // Every answer the suite sees, so that tests/completeness can check each is declared in /openapi.json.
  observe('answers', { method, path: new URL(url).pathname, status: res.status } satisfies ObservedAnswer)
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed }
}
