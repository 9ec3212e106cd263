// DNS lookups for domain verification, behind an interface so each runtime supplies its own: Deno has
// Deno.resolveDns; on Node the server injects a resolver built on node:dns (scripts/lib/node-resolver.ts),
// as tests do with one pointed at their loopback DNS server. A name with no such records resolves to [].

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

/** The resolver verification uses from now on in this process. */
export function useResolver(resolver: Resolver): void {
  injected = resolver
}

type DenoDns = {
  resolveDns(name: string, type: 'MX' | 'TXT', options?: { nameServer?: { ipAddr: string; port?: number } }): Promise<unknown[]>
  errors: { NotFound: new () => Error }
}

/** The injected resolver, or Deno's own; DNS_SERVER (`host[:port]`) names the server Deno asks. */
export function currentResolver(readEnv: (name: string) => string | undefined): Resolver | undefined {
  if (injected) return injected
  const deno = (globalThis as { Deno?: DenoDns }).Deno
  return deno ? denoResolver(deno, readEnv('DNS_SERVER')) : undefined
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
