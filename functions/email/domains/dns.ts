// DNS lookups for domain verification, behind an interface so each runtime supplies its own: Deno has
// Deno.resolveDns; on Node the server injects a resolver built on node:dns (scripts/lib/node-resolver.ts),
// as tests do with one pointed at their loopback DNS server, and an entry that injects none gets node:dns
// loaded on first use. A name with no such records resolves to [].

export interface MxRecord {
  exchange: string
  priority: number
}

export interface Resolver {
  resolveMx(name: string): Promise<MxRecord[]>
  /** Each TXT record as its character strings, in order. */
  resolveTxt(name: string): Promise<string[][]>
}

let injected: Resolver | undefined

/** The resolver verification uses from now on in this process (undefined: the runtime's own again). */
export function useResolver(resolver: Resolver | undefined): void {
  injected = resolver
}

type DenoDns = {
  resolveDns(name: string, type: 'MX' | 'TXT', options?: { nameServer?: { ipAddr: string; port?: number } }): Promise<unknown[]>
  errors: { NotFound: new () => Error }
}

type NodeDns = typeof import('node:dns/promises')

/**
 * The injected resolver, else Deno's own, else node:dns's (imported when first asked for, so the module
 * still loads where there is none); undefined when this runtime offers no resolver at all. DNS_SERVER
 * (`host[:port]`) names the server asked.
 */
export async function currentResolver(
  readEnv: (name: string) => string | undefined,
  loadNodeDns: () => Promise<NodeDns> = () => import('node:dns/promises'),
): Promise<Resolver | undefined> {
  if (injected) return injected
  const deno = (globalThis as { Deno?: DenoDns }).Deno
  if (deno) return denoResolver(deno, readEnv('DNS_SERVER'))
  const dns = await loadNodeDns().catch(() => undefined)
  return dns ? nodeDnsResolver(dns, readEnv('DNS_SERVER')) : undefined
}

const noRecords = new Set(['ENOTFOUND', 'ENODATA'])

function nodeDnsResolver(dns: NodeDns, server: string | undefined): Resolver {
  const resolver = new dns.Resolver({ timeout: 3000, tries: 2 })
  if (server) resolver.setServers([server])
  const orEmpty = <T>(lookup: Promise<T[]>): Promise<T[]> =>
    lookup.catch((error: { code?: string }) => {
      if (error.code && noRecords.has(error.code)) return []
      throw error
    })
  return {
    resolveMx: async (name) => (await orEmpty(resolver.resolveMx(name))).map((mx) => ({ exchange: mx.exchange, priority: mx.priority })),
    resolveTxt: (name) => orEmpty(resolver.resolveTxt(name)),
  }
}

function denoResolver(deno: DenoDns, server: string | undefined): Resolver {
  const [ipAddr, port] = server ? splitServer(server) : []
  const options = ipAddr ? { nameServer: { ipAddr, port: port ?? 53 } } : undefined
  const lookup = async (name: string, type: 'MX' | 'TXT') => {
    try {
      return await deno.resolveDns(name, type, options)
    } catch (error) {
      if (error instanceof deno.errors.NotFound) return []
      throw error
    }
  }
  return {
    resolveMx: async (name) =>
      ((await lookup(name, 'MX')) as { exchange: string; preference: number }[]).map((r) => ({
        exchange: r.exchange,
        priority: r.preference,
      })),
    resolveTxt: async (name) => (await lookup(name, 'TXT')) as string[][],
  }
}

/** `1.2.3.4`, `1.2.3.4:5353` or `[::1]:5353` as address and port. */
export function splitServer(server: string): [string, number | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server)
  if (bracketed) return [bracketed[1], bracketed[2] ? Number(bracketed[2]) : undefined]
  const [host, port] = server.split(':')
  return server.split(':').length === 2 ? [host, Number(port)] : [server, undefined]
}
