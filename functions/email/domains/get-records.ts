import { z } from '@hono/zod-openapi'
import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { requireDomain } from './queries.ts'
import { DnsRecord, DomainParams, domainStatuses } from './schemas.ts'
import { domainView } from './view.ts'

const DomainRecords = z
  .object({ domain_id: z.uuid(), name: z.string(), status: z.enum(domainStatuses), records: z.array(DnsRecord) })
  .openapi('EmailDomainRecords')

export const getRecordsRoute = defineRoute({
  method: 'get',
  path: '/domains/{id}/records',
  scope: 'domains:read',
  tags: ['Email'],
  summary: 'Get the DNS records to configure for a domain',
  description: 'MX, SPF, DKIM and DMARC, each with the exact name and value to create at the DNS provider, and its last check.',
  request: { params: DomainParams },
  responses: { 200: { description: 'The records', content: { 'application/json': { schema: dataOf(DomainRecords) } } } },
})

export const registerGetRecords = (api: Api) =>
  api.openapi(getRecordsRoute, async (c) => {
    const { id } = c.req.valid('param')
    const domain = domainView(await withTenant(tenantOf(c), (tx) => requireDomain(tx, id)))
    return c.json({ data: { domain_id: domain.id, name: domain.name, status: domain.status, records: domain.records } }, 200)
  })
