// Domain verification's DNS on Node: node:dns's own resolver (not the system's getaddrinfo), asking
// DNS_SERVER (`host[:port]`) when it is set and the system's servers otherwise. A name without such records
// resolves to [] rather than failing.
import { Resolver as DnsResolver } from 'node:dns/promises'
import type { Resolver } from '../../functions/email/domains/dns.ts'

const noRecords = new Set(['ENOTFOUND', 'ENODATA'])

export function nodeResolver(server: string | undefined = process.env.DNS_SERVER || undefined): Resolver {
  const dns = new DnsResolver({ timeout: 3000, tries: 2 })
  if (server) dns.setServers([server])
  const orEmpty = <T>(lookup: Promise<T[]>): Promise<T[]> =>
    lookup.catch((error: { code?: string }) => {
      if (error.code && noRecords.has(error.code)) return []
      throw error
    })
  return {
    resolveMx: async (name) => (await orEmpty(dns.resolveMx(name))).map((mx) => ({ exchange: mx.exchange, priority: mx.priority })),
    resolveTxt: (name) => orEmpty(dns.resolveTxt(name)),
  }
}
