import type { Api } from '../../_core/server.ts'
import { tenantOf } from '../../_core/auth.ts'
import { withTenant } from '../../_core/db.ts'
import { readEnv } from '../../_core/env.ts'
import { ApiError } from '../../_core/errors.ts'
import { defineRoute } from '../../_core/route.ts'
import { dataOf } from '../../_core/schemas.ts'
import { sharedDomain } from '../shared-domain.ts'
import { generateDkimKey } from './dkim.ts'
import { insertDomain } from './queries.ts'
import { CreateDomainBody, Domain } from './schemas.ts'
import { domainView } from './view.ts'

export const createDomainRoute = defineRoute({
  method: 'post',
  path: '/domains',
  scope: 'domains:write',
  tags: ['Email'],
  summary: 'Add a custom email domain',
  description:
    'Generates the domain’s DKIM key (2048-bit RSA) and answers the DNS records to configure (`records`, also at ' +
    '`GET /domains/{id}/records`); then call `POST /domains/{id}/verify`. Organisation credentials only.',
  request: { body: { content: { 'application/json': { schema: CreateDomainBody } } } },
  errors: {
    403: "The credential lacks the route's scope, or is an agent key",
    409: 'The organisation already has this domain',
  },
  responses: { 201: { description: 'The new domain, pending verification', content: { 'application/json': { schema: dataOf(Domain) } } } },
})

export const registerCreateDomain = (api: Api) =>
  api.openapi(createDomainRoute, async (c) => {
    const p = c.get('principal')
    if (p.agentId) throw new ApiError('insufficient_scope', 'An agent key cannot add domains; use an organisation key.')
    const { name } = c.req.valid('json')
    const shared = sharedDomain(readEnv)
    if (name === shared || name.endsWith(`.${shared}`)) {
      throw new ApiError(
        'validation_failed',
        `Invalid request: name: ${shared} is the shared domain; create inboxes on it with POST /inboxes.`,
        {
          fields: [{ field: 'name', message: 'the shared domain' }],
        },
      )
    }
    const key = await generateDkimKey()
    const row = await withTenant(tenantOf(c), (tx) =>
      insertDomain(tx, { orgId: p.orgId, name, selector: key.selector, privateKeyPem: key.privateKeyPem, publicKey: key.publicKey }),
    ).catch((error: { code?: string }) => {
      if (error.code === '23505') throw new ApiError('conflict', `This organisation already has the domain ${name}.`)
      throw error
    })
    return c.json({ data: domainView(row) }, 201)
  })
