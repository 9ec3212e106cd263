// The outbound transport on Deno (Supabase Edge Functions): fetch with redirects refused and a deadline, and
// the SSRF guard on every address the host name resolves to. Deno's fetch resolves the name again when it
// connects, so unlike the Node transport this one cannot pin the checked address: a name that changes
// between the two lookups could still get by (DNS rebinding). Supabase's network keeps functions away from
// the project's private services either way; run `npm run worker` where that matters more.
import { isPrivateAddress, keptBodyBytes, OutboundError, type Transport } from '../../../functions/_core/outbound.ts'

export function denoTransport(options: { allowPrivate: boolean }): Transport {
  return async (request) => {
    const url = new URL(request.url)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('blocked', `Only http and https URLs are delivered to, not ${url.protocol}`)
    if (!options.allowPrivate) await refusePrivate(url.hostname.replace(/^\[|\]$/g, ''))
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(request.timeoutMs),
      })
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new OutboundError('timeout', `No answer within ${request.timeoutMs} ms`)
      throw new OutboundError('network', `Could not reach ${url.host}: ${(error as Error).message}`)
    }
    return { status: response.status, headers: response.headers, body: await firstBytes(response) }
  }
}

async function refusePrivate(host: string) {
  if (/^[\d.]+$/.test(host) || host.includes(':')) {
    if (isPrivateAddress(host)) throw new OutboundError('blocked', `${host} is a private, loopback or link-local address; deliveries may not reach it`)
    return
  }
  const addresses = (
    await Promise.all((['A', 'AAAA'] as const).map((type) => Deno.resolveDns(host, type).catch(() => [] as string[])))
  ).flat()
  if (addresses.length === 0) throw new OutboundError('network', `Could not resolve ${host}`)
  if (addresses.some(isPrivateAddress)) throw new OutboundError('blocked', `${host} resolves to a private address; deliveries may not reach it`)
}

async function firstBytes(response: Response): Promise<string> {
  if (!response.body) return ''
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  while (size < keptBodyBytes) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
  }
  await reader.cancel().catch(() => {})
  const all = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    all.set(c, at)
    at += c.length
  }
  return new TextDecoder().decode(all.subarray(0, keptBodyBytes))
}
