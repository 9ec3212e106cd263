import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { currentResolver } from './dns.ts'
import { recordVerification, requireDomain } from './queries.ts'
import { checkRecords, expectedRecords, requiredKinds } from './records.ts'
import { Domain, DomainParams } from './schemas.ts'
import { domainView } from './view.ts'

export const verifyDomainRoute = defineRoute({
  method: 'post',
  path: '/domains/{id}/verify',
  scope: 'domains:write',
  tags: ['Email'],
  summary: 'Check a domain’s DNS records',
  description:
    'Looks up MX, SPF, DKIM and DMARC now and stores each record’s status. The domain is `verified` when MX, SPF and ' +
    'DKIM pass (DMARC is advised, not required), `failed` otherwise. A name verified by another organisation cannot ' +
    'be verified again. Organisation credentials only.',
  request: { params: DomainParams },
  errors: {
    403: "The credential lacks the route's scope, or is an agent key",
    409: 'Another organisation has verified this domain name',
    503: 'This runtime offers no DNS resolver',
  },
  responses: { 200: { description: 'The domain after the check', content: { 'application/json': { schema: dataOf(Domain) } } } },
})

export const registerVerifyDomain = (api: Api) =>
  api.openapi(verifyDomainRoute, async (c) => {
    const p = c.get('principal')
    const { id } = c.req.valid('param')
    if (p.agentId) throw new ApiError('insufficient_scope', 'An agent key cannot verify domains; use an organisation key.')
    // Read without the audit entry: the write, and its entry, come after the lookups.
    const domain = await withTenant(p.claims, (tx) => requireDomain(tx, id))
    const resolver = await currentResolver(readEnv)
    if (!resolver) throw new ApiError('service_unavailable', 'This server has no DNS resolver to check the records with; try again later.')
    // Looked up outside any transaction: DNS may take seconds, and holds no connection meanwhile.
    const checks = await checkRecords(resolver, expectedRecords(domain, readEnv), new Date())
    const verified = requiredKinds.every((kind) => checks[kind]?.status === 'verified')
    const row = await withTenant(tenantOf(c), (tx) => recordVerification(tx, id, checks, verified)).catch((error: { code?: string }) => {
      if (error.code === '23505') throw new ApiError('conflict', `${domain.name} is verified by another organisation.`)
      throw error
    })
    if (!row) throw new ApiError('not_found', 'Domain not found.')
    return c.json({ data: domainView(row) }, 200)
  })
