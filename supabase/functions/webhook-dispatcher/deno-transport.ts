// The outbound transport on Deno (Supabase Edge Functions), with the SSRF guard on the very address it
// connects to. Deno's fetch resolves a host name itself when it connects, so a name checked beforehand could
// answer differently then (DNS rebinding); and its one way to choose the socket, a `tcp` proxy in
// Deno.createHttpClient, sends https in plain text. So this transport does not use fetch. It resolves the
// name once (Deno.resolveDns), refuses the lot if any answer is private, and opens the TCP connection to an
// address it checked (Deno.connect). For https it then starts TLS on that connection for the URL's host
// name (Deno.startTls), so the certificate is verified for the name, as fetch would verify it. Over that
// connection it speaks just enough HTTP/1.1 for one POST: Host is the URL's, the connection closes after
// the answer, a 3xx is the answer (no redirect is followed), and reading stops after the first 2 KB of the
// body. One deadline covers the whole exchange, a slow drip included.
import { isPrivateAddress, keptBodyBytes, OutboundError, type OutboundResponse, type Transport } from '../../../functions/_core/outbound.ts'

/** An answer's status line and headers may take this much; an answer with more is not read. */
const headLimit = 64 * 1024

export interface DenoTransportOptions {
  /** Whether private, loopback and link-local addresses may be reached (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean
  /** Root certificates (PEM) trusted besides the system's, for receivers behind a private CA. */
  caCerts?: string[]
}

export function denoTransport(options: DenoTransportOptions): Transport {
  return async (request) => {
    const url = new URL(request.url)
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new OutboundError('blocked', `Only http and https URLs are delivered to, not ${url.protocol}`)
    const held: { conn?: Deno.Conn; over: boolean } = { over: false }
    const exchange = (async () => {
      try {
        const addresses = await checkedAddresses(url.hostname.replace(/^\[|\]$/g, ''), options.allowPrivate)
        const conn = await connect(url, addresses, options.caCerts)
        held.conn = conn
        if (held.over) close(conn)
        await writeAll(conn, requestBytes(url, request.headers, request.body))
        return await readAnswer(new Incoming(conn))
      } catch (error) {
        if (error instanceof OutboundError) throw error
        throw new OutboundError('network', `Could not reach ${url.host}: ${(error as Error)?.message ?? String(error)}`)
      }
    })()
    // Whatever the exchange does after the deadline (a read failing on the closed connection) is moot.
    exchange.catch(() => {})
    let timer: ReturnType<typeof setTimeout> | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OutboundError('timeout', `No answer within ${request.timeoutMs} ms`)), request.timeoutMs)
    })
    try {
      return await Promise.race([exchange, deadline])
    } finally {
      clearTimeout(timer)
      held.over = true
      close(held.conn)
    }
  }
}

/** The addresses a host stands for, every one of them checked; an IP address stands for itself. */
async function checkedAddresses(host: string, allowPrivate: boolean): Promise<string[]> {
  if (/^[\d.]+$/.test(host) || host.includes(':')) {
    if (!allowPrivate && isPrivateAddress(host))
      throw new OutboundError('blocked', `${host} is a private, loopback or link-local address; deliveries may not reach it`)
    return [host]
  }
  const answers = await Promise.all((['A', 'AAAA'] as const).map((type) => Deno.resolveDns(host, type).catch(() => [] as string[])))
  const addresses = answers.flat()
  if (addresses.length === 0) throw new OutboundError('network', `Could not resolve ${host}`)
  if (!allowPrivate && addresses.some(isPrivateAddress))
    throw new OutboundError('blocked', `${host} resolves to a private address; deliveries may not reach it`)
  return addresses
}

/** Connects to the first of the checked addresses that answers, and starts TLS for the URL's name on https. */
async function connect(url: URL, addresses: string[], caCerts: string[] | undefined): Promise<Deno.Conn> {
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  let failure: unknown
  for (const address of addresses) {
    let tcp: Deno.TcpConn
    try {
      tcp = await Deno.connect({ hostname: address, port })
    } catch (error) {
      failure = error
      continue
    }
    if (url.protocol === 'http:') return tcp
    try {
      return await Deno.startTls(tcp, { hostname: url.hostname.replace(/^\[|\]$/g, ''), caCerts, alpnProtocols: ['http/1.1'] })
    } catch (error) {
      close(tcp)
      throw new OutboundError('network', `Could not reach ${url.host}: ${(error as Error).message}`)
    }
  }
  throw new OutboundError('network', `Could not reach ${url.host}: ${(failure as Error)?.message ?? 'no address'}`)
}

function requestBytes(url: URL, given: Record<string, string>, body: string): Uint8Array {
  const payload = new TextEncoder().encode(body)
  // Headers validates names and values (no CR or LF gets into the request).
  const headers = new Headers(given)
  for (const name of ['host', 'content-length', 'transfer-encoding', 'connection']) headers.delete(name)
  let head = `POST ${url.pathname || '/'}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`
  head += `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`
  const headBytes = new TextEncoder().encode(head)
  const all = new Uint8Array(headBytes.length + payload.length)
  all.set(headBytes)
  all.set(payload, headBytes.length)
  return all
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array) {
  for (let at = 0; at < bytes.length; ) at += await conn.write(bytes.subarray(at))
}

/** The final answer (interim 1xx answers are skipped) and the first 2 KB of its body. */
async function readAnswer(incoming: Incoming): Promise<OutboundResponse> {
  for (;;) {
    const head = await incoming.head()
    const [statusLine, ...lines] = head.split('\r\n')
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine)
    if (!status) throw new OutboundError('network', 'The receiver did not answer in HTTP/1.1')
    const code = Number(status[1])
    if (code >= 100 && code < 200 && code !== 101) continue
    const headers = new Headers()
    for (const line of lines) {
      const colon = line.indexOf(':')
      if (colon <= 0) continue
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
      } catch {
        // A header Headers refuses is left out; the rest of the answer still counts.
      }
    }
    const body = code === 204 || code === 304 ? new Uint8Array(0) : await readBody(incoming, headers).catch(() => incoming.kept())
    return { status: code, headers, body: new TextDecoder().decode(body.subarray(0, keptBodyBytes)) }
  }
}

async function readBody(incoming: Incoming, headers: Headers): Promise<Uint8Array> {
  if (/(^|,)\s*chunked\s*$/i.test(headers.get('transfer-encoding') ?? '')) {
    while (incoming.kept().length < keptBodyBytes) {
      const size = parseInt((await incoming.line()).split(';')[0].trim(), 16)
      if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size')
      if (size === 0) break
      await incoming.keep(size)
      await incoming.line()
    }
    return incoming.kept()
  }
  const length = headers.get('content-length')
  await incoming.keep(length !== null && /^\d+$/.test(length) ? Math.min(Number(length), keptBodyBytes) : keptBodyBytes)
  return incoming.kept()
}

/** A buffered reader over the connection that keeps at most the first 2 KB of a body. */
class Incoming {
  private buffer = new Uint8Array(0)
  private ended = false
  private body: Uint8Array[] = []
  private bodySize = 0

  constructor(private readonly conn: Deno.Conn) {}

  /** The status line and headers, without the blank line that ends them. */
  async head(): Promise<string> {
    for (;;) {
      const end = indexOfBlankLine(this.buffer)
      if (end >= 0) {
        const head = new TextDecoder('latin1').decode(this.buffer.subarray(0, end))
        this.buffer = this.buffer.subarray(end + 4)
        return head
      }
      if (this.buffer.length > headLimit)
        throw new OutboundError('network', `The receiver's answer has more than ${headLimit / 1024} KB of headers`)
      if (!(await this.fill())) throw new OutboundError('network', 'The receiver closed the connection without answering')
    }
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf(0x0a)
      if (end >= 0) {
        const line = new TextDecoder('latin1').decode(this.buffer.subarray(0, end)).replace(/\r$/, '')
        this.buffer = this.buffer.subarray(end + 1)
        return line
      }
      if (this.buffer.length > headLimit || !(await this.fill())) throw new Error('no line')
    }
  }

  /** Reads `count` bytes of body (fewer if the connection ends), keeping what fits in the first 2 KB. */
  async keep(count: number): Promise<void> {
    let left = count
    while (left > 0) {
      if (this.buffer.length === 0 && !(await this.fill())) return
      const part = this.buffer.subarray(0, Math.min(left, this.buffer.length))
      this.buffer = this.buffer.subarray(part.length)
      left -= part.length
      if (this.bodySize < keptBodyBytes) {
        const kept = part.subarray(0, keptBodyBytes - this.bodySize)
        this.body.push(kept)
        this.bodySize += kept.length
      }
    }
  }

  kept(): Uint8Array {
    const all = new Uint8Array(this.bodySize)
    let at = 0
    for (const part of this.body) {
      all.set(part, at)
      at += part.length
    }
    return all
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false
    const chunk = new Uint8Array(16 * 1024)
    const read = await this.conn.read(chunk)
    if (read === null) {
      this.ended = true
      return false
    }
    const next = new Uint8Array(this.buffer.length + read)
    next.set(this.buffer)
    next.set(chunk.subarray(0, read), this.buffer.length)
    this.buffer = next
    return true
  }
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a && bytes[i + 2] === 0x0d && bytes[i + 3] === 0x0a) return i
  }
  return -1
}

function close(conn: Deno.Conn | undefined) {
  try {
    conn?.close()
  } catch {
    // Already closed.
  }
}
