// The outbound transport on Node: http/https with keep-alive, no redirects followed, a deadline over the
// whole exchange, and the SSRF guard applied to the very address each socket connects to (a custom lookup),
// so a host name that resolves to a public address when checked and a private one when used cannot get by.
import dns from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { isPrivateAddress, keptBodyBytes, OutboundError, type Transport } from '../../functions/_core/outbound.ts'

/** Reading stops after this much of a body; past it the connection is dropped rather than drained. */
const drainLimit = 64 * 1024

export function nodeTransport(options: { allowPrivate: boolean }): Transport {
  const { allowPrivate } = options
  const lookup = ((hostname: string, opts: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
    dns.lookup(hostname, { all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error)
      const allowed = addresses.filter((a) => allowPrivate || !isPrivateAddress(a.address))
      if (allowed.length === 0)
        return callback(Object.assign(new Error(`${hostname} resolves only to private addresses`), { code: 'EPRIVATE' }))
      if (opts.all) callback(null, allowed)
      else callback(null, allowed[0].address, allowed[0].family)
    })
  }) as unknown as net.LookupFunction
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
  }

  return (request) =>
    new Promise((resolve, reject) => {
      const url = new URL(request.url)
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        return reject(new OutboundError('blocked', `Only http and https URLs are delivered to, not ${url.protocol}`))
      const host = url.hostname.replace(/^\[|\]$/g, '')
      // An IP address is connected to without a lookup: check it here.
      if (net.isIP(host) && !allowPrivate && isPrivateAddress(host)) {
        return reject(new OutboundError('blocked', `${host} is a private, loopback or link-local address; deliveries may not reach it`))
      }
      let settled = false
      const finish = (fn: () => void) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        fn()
      }
      const req = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          agent: agents[url.protocol],
          lookup,
        },
        (res) => {
          const chunks: Buffer[] = []
          let received = 0
          res.on('data', (chunk: Buffer) => {
            if (received < keptBodyBytes) chunks.push(chunk)
            received += chunk.length
            if (received > drainLimit) res.destroy()
          })
          const done = () =>
            finish(() =>
              resolve({
                status: res.statusCode ?? 0,
                headers: new Headers(
                  Object.entries(res.headers).flatMap(([k, v]): [string, string][] =>
                    v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]],
                  ),
                ),
                body: Buffer.concat(chunks).subarray(0, keptBodyBytes).toString('utf8'),
              }),
            )
          res.on('end', done)
          res.on('close', done)
        },
      )
      const timer = setTimeout(() => {
        req.destroy()
        finish(() => reject(new OutboundError('timeout', `No answer within ${request.timeoutMs} ms`)))
      }, request.timeoutMs)
      req.on('error', (error: NodeJS.ErrnoException) =>
        finish(() =>
          reject(
            error.code === 'EPRIVATE'
              ? new OutboundError('blocked', `${error.message}; deliveries may not reach them`)
              : new OutboundError('network', `Could not reach ${url.host}: ${error.code ?? error.message}`),
          ),
        ),
      )
      req.end(request.body)
    })
}
